import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import ConformanceKit

/// Parses XML back with Foundation's parser, keeping every element's name, attributes and text.
final class XMLElements: NSObject, XMLParserDelegate {
    struct Element { var name: String; var attributes: [String: String]; var text = "" }
    var elements: [Element] = []
    var stack: [Int] = []
    var error: Error?

    static func parse(_ xml: String) -> XMLElements {
        let collector = XMLElements()
        let parser = XMLParser(data: Data(xml.utf8))
        parser.delegate = collector
        if !parser.parse() { collector.error = collector.error ?? parser.parserError ?? CocoaError(.coderReadCorrupt) }
        return collector
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String]) {
        stack.append(elements.count)
        elements.append(Element(name: name, attributes: attributes))
    }
    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        stack.removeLast()
    }
    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if let i = stack.last { elements[i].text += string }
    }
    func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) { error = parseError }

    func all(_ name: String) -> [Element] { elements.filter { $0.name == name } }
}

@Suite struct JUnitReportTests {
    let report = ciReport([
        ciCase("act/relu/a", "reference"),
        ciCase("act/relu/b", "reference", .fail, message: "output at [1]: got 2.0, expected 3.0", use: 4),
        ciCase("act/relu/c", "reference", .error, message: "RuntimeError: boom"),
        ciCase("bad/file", "reference", .invalid, message: "Fixtures/bad/file.json: not JSON"),
        ciCase("act/relu/a", "optimized"),
        ciCase("act/relu/b", "optimized", .unsupported, message: "relu is not implemented"),
    ], backends: ["reference", "optimized"])

    @Test func countsPerSuiteAndTotal() throws {
        let xml = JUnitReport.render(report)
        let doc = XMLElements.parse(xml)
        #expect(doc.error == nil)
        let root = try #require(doc.all("testsuites").first)
        #expect(root.attributes["tests"] == "6")
        #expect(root.attributes["failures"] == "1")
        #expect(root.attributes["errors"] == "2")       // error + invalid
        let suites = doc.all("testsuite")
        #expect(suites.map { $0.attributes["name"] } == ["reference", "optimized"])
        #expect(suites.map { $0.attributes["tests"] } == ["4", "2"])
        #expect(suites.map { $0.attributes["failures"] } == ["1", "0"])
        #expect(suites.map { $0.attributes["errors"] } == ["2", "0"])
        #expect(suites.map { $0.attributes["skipped"] } == ["0", "1"])
        #expect(doc.all("testcase").count == 6)
        #expect(doc.all("failure").count == 1)
        #expect(doc.all("error").count == 2)
        #expect(doc.all("skipped").count == 1)
        #expect(doc.all("error").map { $0.attributes["type"] } == ["error", "invalid"])
    }

    @Test func testcaseNamesTimesAndDetails() throws {
        let doc = XMLElements.parse(JUnitReport.render(report))
        let cases = doc.all("testcase")
        #expect(cases[0].attributes["classname"] == "reference.act.relu")
        #expect(cases[0].attributes["name"] == "a")
        #expect(cases[0].attributes["time"] == "0.001000")
        let failure = try #require(doc.all("failure").first)
        #expect(failure.attributes["message"] == "output at [1]: got 2.0, expected 3.0")
        #expect(failure.text.contains("tolerance_use=4"))
        #expect(failure.text.contains("repro: conformance run Fixtures --backend reference --filter '^act/relu/b$'"))
        // Times are plain decimals, as the XSD's SUREFIRE_TIME pattern wants.
        for e in doc.all("testsuite") + doc.all("testsuites") + cases {
            let t = try #require(e.attributes["time"])
            #expect(t.range(of: #"^[0-9]+\.[0-9]{6}$"#, options: .regularExpression) != nil)
        }
    }

    @Test func escapeFunction() {
        #expect(JUnitReport.escape(#"a<b>&"c"'d'"#, attribute: true) == "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;")
        #expect(JUnitReport.escape("x\ny\tz\r", attribute: true) == "x&#10;y&#9;z&#13;")
        #expect(JUnitReport.escape("x\ny\tz\r", attribute: false) == "x\ny\tz&#13;")
        #expect(JUnitReport.escape("bell\u{7} nul\u{0} esc\u{1B} nonchar\u{FFFE}", attribute: false)
                == "bell\\u{7} nul\\u{0} esc\\u{1B} nonchar\\u{FFFE}")
        #expect(JUnitReport.escape("é 中 😀 \u{85}", attribute: true) == "é 中 😀 \u{85}")
    }

    @Test func hostileIdsAndMessagesStayWellFormed() throws {
        let id = #"evil/<x a="1">&amp;'q'/case <b>&"'"# + "\u{1}\u{1B}]]>"
        let message = "line one <script>alert('&')</script> \u{0}\u{8}\nline two ]]> \"quoted\""
        let r = ciReport([ciCase(id, .fail, message: message), ciCase("ok/x/y", .error, message: "\u{FFFF}")])
        let xml = JUnitReport.render(r)
        #expect(!xml.unicodeScalars.contains { !JUnitReport.isXMLChar($0) })
        let doc = XMLElements.parse(xml)
        #expect(doc.error == nil)
        let failure = try #require(doc.all("failure").first)
        #expect(failure.attributes["message"] == "line one <script>alert('&')</script> \\u{0}\\u{8}")
        #expect(failure.text.contains("line two ]]> \"quoted\""))
        let testcase = try #require(doc.all("testcase").first)
        #expect(testcase.attributes["name"] == "case <b>&\"'\\u{1}\\u{1B}]]>")
        #expect(testcase.attributes["classname"] == #"reference.evil.<x a="1">&amp;'q'"#)
    }

    @Test func newlinesInPropertiesSurviveParsing() throws {
        var r = report
        r.backends[0].details = "two\nlines\tand a tab"
        let doc = XMLElements.parse(JUnitReport.render(r))
        let p = try #require(doc.all("property").first { $0.attributes["name"] == "backend.details" })
        #expect(p.attributes["value"] == "two\nlines\tand a tab")
    }

    @Test func deterministicAndIndependentOfCaseOrder() {
        let a = JUnitReport.render(report)
        #expect(a == JUnitReport.render(report))
        var shuffled = report
        shuffled.cases.reverse()
        #expect(a == JUnitReport.render(shuffled))
    }

    @Test func emptyReport() {
        let doc = XMLElements.parse(JUnitReport.render(ciReport([])))
        #expect(doc.error == nil)
        #expect(doc.all("testsuite").first?.attributes["tests"] == "0")
    }
}
