import Foundation
import NNCore
import Testing
@testable import ConformanceKit

/// Writes `text` to a fresh temporary file and loads it as a fixture file named `name`.
func load(_ text: String, name: String = "t") throws -> FixtureFile {
    let dir = try TemporaryDirectory("nnconf-tests")
    defer { dir.remove() }
    let url = dir.appendingPathComponent("\(name).json")
    try text.write(to: url, atomically: true, encoding: .utf8)
    return FixtureLoader.loadFile(path: url.path, relativeName: name)
}

func file(_ cases: String) -> String {
    #"{"format": "nnconf/1", "generator": {"name": "test", "version": "0"}, "cases": [\#(cases)]}"#
}

func invalidMessage(_ c: FixtureCase) -> String? {
    if case .invalid(let m) = c.body { return m }
    return nil
}

@Suite struct FixtureLoaderTests {
    @Test func tensorsFromDataBase64AndInit() throws {
        let f = try load(file(#"""
            {"name": "a", "call": "relu", "args": {
              "input": {"shape": [2, 2], "dtype": "float32", "data": [0.5, "nan", "inf", "-inf"], "requires_grad": true},
              "w": {"shape": [2], "dtype": "float32", "b64": "AACAPwAAAEA="},
              "i": {"shape": [3], "dtype": "int64", "init": {"randint": [0, 10], "seed": 3}},
              "u": {"shape": [], "dtype": "float64", "init": {"uniform": [-1, 1], "seed": 0}}}}
            """#))
        guard case .call(let spec) = try #require(f.cases.first).body else { Issue.record("not a call"); return }
        let args = Dictionary(uniqueKeysWithValues: spec.args)
        guard case .tensor(let input)? = args["input"], case .tensor(let w)? = args["w"],
              case .tensor(let i)? = args["i"], case .tensor(let u)? = args["u"] else { Issue.record("tensors"); return }
        #expect(input.shape == [2, 2] && input.requiresGrad)
        let d = input.data.doubles
        #expect(d[0] == 0.5 && d[1].isNaN && d[2] == .infinity && d[3] == -.infinity)
        #expect(w.data == .float32([1, 2]))
        var g = SplitMix64(seed: 3)
        #expect(i.data == .int64((0..<3).map { _ in Int64((g.nextUnit() * 10).rounded(.down)) }))
        var g0 = SplitMix64(seed: 0)
        #expect(u.shape == [] && u.data == .float64([-1 + 2 * g0.nextUnit()]))
    }

    @Test func malformedCasesBecomeInvalidWithPathAndReason() throws {
        let f = try load(file(#"""
            {"name": "short", "call": "relu", "args": {"input": {"shape": [2, 3], "dtype": "float32", "data": [1, 2]}}},
            {"name": "dtype", "call": "relu", "args": {"input": {"shape": [1], "dtype": "float16", "data": [1]}}},
            {"name": "b64", "call": "relu", "args": {"input": {"shape": [2], "dtype": "float32", "b64": "AAAA"}}},
            {"name": "word", "call": "relu", "args": {"input": {"shape": [1], "dtype": "float32", "data": ["NaN"]}}},
            {"name": "grads", "call": "relu", "args": {"input": {"shape": [1], "dtype": "float32", "data": [1]}},
             "backward": {"grads": {"input": {"shape": [1], "dtype": "float32", "data": [1]}}}},
            {"name": "neither", "args": {}},
            {"name": "undefined", "program": [{"backward": "y"}]},
            {"name": "huge", "call": "relu", "args": {"input": {"shape": [100000, 100000, 100000], "dtype": "float32", "init": {"uniform": [0, 1], "seed": 1}}}},
            {"name": "dup", "call": "relu"}, {"name": "dup", "call": "relu"}, {"call": "relu"}
            """#), name: "bad")
        let messages = f.cases.map { ($0.id, invalidMessage($0) ?? "") }
        let expected = [
            ("bad/short", "case 'short': args.input.data: expected 6 values for shape [2, 3], got 2"),
            ("bad/dtype", "args.input.dtype: 'float16' is not one of float32, float64, int64, bool"),
            ("bad/b64", "args.input.b64: holds 3 bytes; 2 float32 values need 8"),
            ("bad/word", "args.input.data[0]: nnconf/1 spells it \"nan\", got \"NaN\""),
            ("bad/grads", "backward: no argument of the call has requires_grad: true"),
            ("bad/neither", "a case needs 'call' or 'program'"),
            ("bad/undefined", "program[0].backward: refers to 'y', which no earlier step defines"),
            ("bad/huge", "more than the limit of"),
            ("bad/dup", ""),
            ("bad/dup#9", "case 9 'dup': name: duplicate name in this file (case 8 has it too)"),
            ("bad/#10", "case 10: name: missing"),
        ]
        #expect(messages.map(\.0) == expected.map(\.0))
        for ((id, got), (_, want)) in zip(messages, expected) {
            #expect(want.isEmpty ? got.isEmpty : got.contains(want), "\(id): \(got)")
            #expect(want.isEmpty || got.contains("bad.json"), "\(id) names its file: \(got)")
        }
    }

    @Test func aFileThatIsNotJSONIsOneInvalidEntryWithPosition() throws {
        let f = try load("{\"format\": \"nnconf/1\",\n \"cases\": [1,, 2]}", name: "broken")
        #expect(f.cases.count == 1)
        #expect(f.cases[0].id == "broken")
        let m = try #require(invalidMessage(f.cases[0]))
        #expect(m.contains("broken.json: not valid JSON"))
        #expect(m.contains("line 2, column"))
    }

    @Test func wrongFormatAndTrailingDataAreInvalid() throws {
        #expect(try invalidMessage(load(#"{"format": "nnconf/2", "cases": []}"#).cases[0])?.contains("format: 'nnconf/2' is not nnconf/1") == true)
        #expect(try invalidMessage(load(#"{"format": "nnconf/1", "cases": []} x"#).cases[0])?.contains("not valid JSON: unexpected character at line 1, column 37") == true)
        #expect(try invalidMessage(load(#"{"format": "nnconf/1", "cases": [{"name": "n", "call": "relu", "args": {"x": NaN}}]}"#).cases[0])?.contains("not valid JSON: the literal NaN") == true)
    }

    @Test func unknownKeysAreWarningsNotErrors() throws {
        let f = try load(#"{"format": "nnconf/1", "extra": 1, "cases": [{"name": "a", "call": "relu", "colour": "red"}]}"#)
        #expect(invalidMessage(f.cases[0]) == nil)
        #expect(f.warnings.contains { $0.contains("'extra'") })
        #expect(f.warnings.contains { $0.contains("'colour'") })
    }

    @Test func directoriesAreSearchedRecursivelyAndIdsAreRelative() throws {
        let dir = try TemporaryDirectory("nnconf-dir")
        defer { dir.remove() }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("conv"), withIntermediateDirectories: true)
        try file(#"{"name": "x", "call": "relu"}"#).write(to: dir.appendingPathComponent("conv/conv2d.json"), atomically: true, encoding: .utf8)
        try "not json".write(to: dir.appendingPathComponent("broken.json"), atomically: true, encoding: .utf8)
        let files = try FixtureLoader.load(paths: [dir.path])
        #expect(files.flatMap(\.cases).map(\.id) == ["broken", "conv/conv2d/x"])
    }
}
