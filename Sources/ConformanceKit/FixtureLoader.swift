import Foundation
import NNCore

/// The cases of one fixture file, or the reason the whole file could not be read.
public struct FixtureFile {
    public let path: String
    /// Path relative to the fixture root, without `.json`: the prefix of every case id.
    public let relativeName: String
    public var cases: [FixtureCase]
    /// Unknown keys and other things ignored with a warning.
    public var warnings: [String]
}

public enum FixtureLoader {
    /// Default limit on one tensor's size (elements); fixtures asking for more are `invalid`.
    public static let defaultMaxElements = 1 << 28

    /// Finds every `*.json` under each path (a directory searched recursively, or a file) and
    /// loads it. Case ids are relative to the directory given. A path that does not exist but
    /// differs only in letter case from one that does (`fixtures/` for `Fixtures/`) is accepted.
    public static func load(paths: [String], maxElements: Int = defaultMaxElements) throws -> [FixtureFile] {
        var files: [FixtureFile] = []
        for given in paths {
            let root = try resolve(given)
            var isDir: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: root, isDirectory: &isDir)
            if isDir.boolValue {
                // Files are named under the path as given (`Fixtures/conv/conv2d.json`), so
                // messages and reports read the same on every machine.
                var base = root
                while base.count > 1 && base.hasSuffix("/") { base.removeLast() }
                let found = (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? [])
                    .filter { $0.hasSuffix(".json") }.sorted()
                for rel in found {
                    files.append(loadFile(path: (base == "/" ? "" : base) + "/" + rel, relativeName: String(rel.dropLast(5)), maxElements: maxElements))
                }
            } else {
                let name = URL(fileURLWithPath: root).deletingPathExtension().lastPathComponent
                files.append(loadFile(path: root, relativeName: name, maxElements: maxElements))
            }
        }
        return files
    }

    static func resolve(_ path: String) throws -> String {
        let fm = FileManager.default
        if fm.fileExists(atPath: path) { return path }
        let url = URL(fileURLWithPath: path)
        let parent = url.deletingLastPathComponent().path
        let wanted = url.lastPathComponent.lowercased()
        if let match = (try? fm.contentsOfDirectory(atPath: parent))?.first(where: { $0.lowercased() == wanted }) {
            return parent + "/" + match
        }
        throw TorchError("FileNotFoundError", "no fixture file or directory at '\(path)'")
    }

    /// Loads one file. Nothing here throws: a file that is not JSON, or not `nnconf/1`, becomes a
    /// single invalid case named after the file, and a broken case becomes an invalid case. Every
    /// invalid case carries its `FixtureProblem` (file, case, JSON path, message).
    public static func loadFile(path: String, relativeName: String, maxElements: Int = defaultMaxElements) -> FixtureFile {
        guard let bytes = FileManager.default.contents(atPath: path) else {
            let problem = FixtureProblem(file: path, id: relativeName, path: "", message: "cannot be read")
            var c = FixtureCase(id: relativeName, file: path, name: "", body: .invalid(problem.description))
            c.problem = problem
            return FixtureFile(path: path, relativeName: relativeName, cases: [c], warnings: [])
        }
        return loadFile(bytes: [UInt8](bytes), path: path, relativeName: relativeName, maxElements: maxElements)
    }

    /// Loads a file's bytes (already read from `path`, which only names it in messages).
    public static func loadFile(bytes: [UInt8], path: String, relativeName: String, maxElements: Int = defaultMaxElements) -> FixtureFile {
        var file = FixtureFile(path: path, relativeName: relativeName, cases: [], warnings: [])
        func fileInvalid(_ at: String, _ why: String) -> FixtureFile {
            let problem = FixtureProblem(file: path, id: relativeName, path: at, message: why)
            var c = FixtureCase(id: relativeName, file: path, name: "", body: .invalid(problem.description))
            c.problem = problem
            file.cases = [c]
            return file
        }
        let json: JSON
        do { json = try JSON.parse(bytes) } catch { return fileInvalid("", "\(error)") }
        guard json.isObject else { return fileInvalid("", "the top level must be an object, got \(json.kind)") }
        guard let formatValue = json["format"] else { return fileInvalid("format", "missing; nnconf/1 files start with \"format\": \"nnconf/1\"") }
        guard case .string(let format) = formatValue else { return fileInvalid("format", "must be the string \"nnconf/1\", got \(formatValue.literal)") }
        guard format == "nnconf/1" else { return fileInvalid("format", "'\(format)' is not nnconf/1") }
        guard let casesValue = json["cases"] else { return fileInvalid("cases", "missing; an array of cases") }
        guard case .array(let cases) = casesValue else { return fileInvalid("cases", "must be an array of cases, got \(casesValue.kind)") }
        for key in json.keys where !["format", "generator", "cases", "description"].contains(key) {
            file.warnings.append("\(relativeName): unknown top-level key '\(key)' ignored")
        }
        var parser = CaseParser(maxElements: maxElements)
        var firstIndex: [String: Int] = [:]
        for (index, c) in cases.enumerated() {
            func invalid(id: String, name: String, label: String, _ at: String, _ why: String) -> FixtureCase {
                let problem = FixtureProblem(file: path, caseLabel: label, id: id, path: at, message: why)
                var fc = FixtureCase(id: id, file: path, name: name, body: .invalid(problem.description))
                fc.problem = problem
                return fc
            }
            let anonymous = "\(relativeName)/#\(index)"
            guard c.isObject else {
                file.cases.append(invalid(id: anonymous, name: "#\(index)", label: "case \(index)", "", "a case must be an object, got \(c.kind)"))
                continue
            }
            guard case .string(let name)? = c["name"], !name.isEmpty else {
                let why = c["name"].map { "must be a non-empty string, got \($0.literal)" } ?? "missing; every case needs a non-empty string name"
                file.cases.append(invalid(id: anonymous, name: "#\(index)", label: "case \(index)", "name", why))
                continue
            }
            let id = "\(relativeName)/\(name)"
            if let first = firstIndex[name] {
                file.cases.append(invalid(id: "\(id)#\(index)", name: name, label: "case \(index) '\(name)'", "name",
                                          "duplicate name in this file (case \(first) has it too)"))
                continue
            }
            firstIndex[name] = index
            var parsed = parser.parseCase(c, id: id, file: path, name: name)
            if case .invalid(let why) = parsed.body {
                let problem = parsed.problem ?? FixtureProblem(file: path, id: id, path: "", message: why)
                parsed = FixtureCase(id: id, file: path, name: name, body: .invalid(problem.description))
                parsed.problem = problem
            }
            file.cases.append(parsed)
        }
        file.warnings += parser.warnings
        return file
    }
}
