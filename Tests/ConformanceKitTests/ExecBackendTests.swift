import Foundation
import NNCore
import Testing
@testable import ConformanceKit

/// `ExecBackend` against a fake backend in plain Python (no torch): handshake, values and
/// gradients, errors, unsupported ops, and a process that crashes, hangs or writes garbage.
@Suite struct ExecBackendTests {
    /// Behaviour by op: relu works (forward + backward, `data` out, `b64` grads); add works and
    /// warns; tanh raises; sigmoid is unsupported; exp crashes; softmax hangs; neg writes garbage;
    /// mul answers with the wrong id; `gelu` is not in its hello. Each call is logged on stderr.
    static let fakeSource = #"""
        import base64, json, os, struct, sys, time
        NO_BACKWARD = "nobackward" in sys.argv
        def dec(t):
            if "b64" in t:
                raw = base64.b64decode(t["b64"])
                return list(struct.unpack("<%df" % (len(raw) // 4), raw))
            return [float(v) for v in t["data"]]
        def enc(shape, vals):
            return {"shape": shape, "dtype": "float32",
                    "b64": base64.b64encode(struct.pack("<%df" % len(vals), *vals)).decode()}
        print("fake backend starting", file=sys.stderr, flush=True)
        for line in sys.stdin:
            m = json.loads(line)
            if m["type"] == "bye":
                print("fake backend: bye", file=sys.stderr, flush=True)
                break
            if m["type"] == "hello":
                r = {"nnconf-exec": 1, "type": "hello", "name": "fake", "version": "0.1",
                     "ops": ["relu", "relu_", "add", "tanh", "sigmoid", "exp", "softmax", "neg", "mul"],
                     "dtypes": ["float32"], "backward": not NO_BACKWARD, "programs": False,
                     "details": "knows %d nnconf ops" % len(m.get("ops", []))}
            else:
                op, i, a = m["op"], m["id"], m["args"]
                print("call id=%s op=%s seed=%s forward_id=%s grads=%s keys=%s" % (i, op, m.get("seed"),
                      m.get("forward_id"), m.get("grads"), ",".join(a)), file=sys.stderr, flush=True)
                backward = "grad_output" in m
                if op in ("relu", "relu_"):
                    x, shape = dec(a["input"]), a["input"]["shape"]
                    if backward:
                        g = dec(m["grad_output"])
                        r = {"type": "result", "id": i, "timing_ms": {"backward": 0.5},
                             "grads": {"input": enc(shape, [gi if xi > 0 else 0.0 for gi, xi in zip(g, x)])}}
                    else:
                        r = {"type": "result", "id": i, "timing_ms": {"forward": 0.25}, "grad_fn": "ReluBackward0",
                             "output": {"shape": shape, "dtype": "float32",
                                        "data": ["nan" if v != v else max(v, 0.0) for v in x]}}
                elif op == "add":
                    x, y, shape = dec(a["input"]), dec(a["other"]), a["input"]["shape"]
                    if backward:
                        g = dec(m["grad_output"])
                        r = {"type": "result", "id": i, "grads": {n: enc(shape, g) for n in m["grads"]}}
                    else:
                        r = {"type": "result", "id": i, "output": enc(shape, [p + q for p, q in zip(x, y)]),
                             "warnings": [{"category": "UserWarning", "message": "add warns"}, "bare warning"]}
                elif op == "tanh":
                    r = {"type": "error", "id": i, "error": {"type": "ValueError", "message": "bad value for tanh"}}
                elif op == "sigmoid":
                    r = {"type": "unsupported", "id": i, "reason": "no sigmoid today"}
                elif op == "exp":
                    print("boom: exp exploded", file=sys.stderr, flush=True)
                    os._exit(3)
                elif op == "softmax":
                    time.sleep(60)
                    continue
                elif op == "neg":
                    sys.stdout.write("this is not json\n")
                    sys.stdout.flush()
                    continue
                else:
                    r = {"type": "result", "id": i + 100, "output": a["input"]}
            sys.stdout.write(json.dumps(r) + "\n")
            sys.stdout.flush()
        """#

    static let fakePath: String = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nnconf-exec-tests")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("fake_backend.py").path
        try? fakeSource.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }()

    func fake(_ extra: [String] = [], timeout: Double = 10) throws -> ExecBackend {
        try ExecBackend(command: ["python3", Self.fakePath] + extra, timeout: timeout, startupTimeout: 30)
    }

    func tensor(_ values: [Float], requiresGrad: Bool = false) -> Tensor {
        Tensor(shape: [values.count], values, requiresGrad: requiresGrad)
    }

    @Test func handshake() throws {
        let b = try fake()
        #expect(b.name == "fake")
        #expect(b.details.hasPrefix("fake 0.1; knows \(Signatures.all.count) nnconf ops; nnconf-exec/1: python3 "))
        #expect(b.hello.ops.contains("relu") && b.hello.dtypes == [.float32] && b.hello.backward && !b.hello.programs)
        #expect(b.implementation(of: "relu") != nil)
        #expect(b.implementation(of: "gelu") == nil)
        #expect(!b.supportsPrograms)
        #expect(throws: Unsupported.self) { try b.call("gelu", ["input": .tensor(tensor([1]))]) }
    }

    @Test func valuesAndGradientsRoundTrip() throws {
        let b = try fake()
        let x = tensor([1, -2, 3, Float.nan], requiresGrad: true)
        let (out, warnings) = try Warnings.collect { try b.call("relu", ["input": .tensor(x), "inplace": .bool(false)]) }
        #expect(warnings.isEmpty)
        let y = try #require(out.tensor)
        #expect(y.shape == [4] && y.dtype == .float32)
        #expect(y.values(Float.self)[..<3] == [1, 0, 3] && y.values(Float.self)[3].isNaN)
        #expect(y.requiresGrad && y.gradFn?.name == "ReluBackward0")
        #expect(b.lastTiming.forwardMs == 0.25)
        try y.backward(gradient: tensor([10, 20, 30, 40]))
        #expect(x.grad?.values(Float.self) == [10, 0, 30, 0])
        #expect(b.lastTiming.backwardMs == 0.5)
        // The backward request repeats the forward's id as forward_id and its seed, and names the grads.
        #expect(b.stderrTail.contains("call id=1 op=relu seed=1 forward_id=None grads=None keys=input,inplace"))
        #expect(b.stderrTail.contains("call id=2 op=relu seed=1 forward_id=1 grads=['input'] keys=input,inplace"))

        // Two inputs, only one requiring grad; warnings reach the harness.
        let p = tensor([1, 2]), q = tensor([3, 4], requiresGrad: true)
        let (sum, raised) = try Warnings.collect { try b.call("add", ["input": .tensor(p), "other": .tensor(q)]) }
        #expect(sum.tensor?.values(Float.self) == [4, 6])
        #expect(raised == [Warning("UserWarning", "add warns"), Warning("UserWarning", "bare warning")])
        try sum.tensor!.backward(gradient: tensor([1, 1]))
        #expect(q.grad?.values(Float.self) == [1, 1] && p.grad == nil)
        #expect(b.stderrTail.contains("grads=['other']"))

        // No input requires grad: a plain tensor, no node.
        #expect(try b.call("relu", ["input": .tensor(tensor([1]))]).tensor?.requiresGrad == false)
    }

    @Test func inplaceResultsAreWrittenIntoTheInput() throws {
        let b = try fake()
        let x = tensor([1, -2])
        let y = try #require(try b.call("relu_", ["input": .tensor(x)]).tensor)
        #expect(y === x && x.values(Float.self) == [1, 0] && x.version == 1)
        // A leaf that requires grad may be returned untouched (as dropout in eval mode does)...
        let leaf = tensor([1, 2], requiresGrad: true)
        #expect(try b.call("relu", ["input": .tensor(leaf), "inplace": .bool(true)]).tensor === leaf)
        // ...but not changed: PyTorch refuses that write, so the backend should have raised.
        let e = try #require(backendError { try b.call("relu_", ["input": .tensor(tensor([-1], requiresGrad: true))]) })
        #expect(e.message.contains("a leaf Variable that requires grad"))
    }

    @Test func errorsAndUnsupported() throws {
        let b = try fake()
        #expect(throws: TorchError("ValueError", "bad value for tanh")) { try b.call("tanh", ["input": .tensor(tensor([1]))]) }
        do {
            _ = try b.call("sigmoid", ["input": .tensor(tensor([1]))])
            Issue.record("sigmoid should be unsupported")
        } catch let u as Unsupported { #expect(u.reason == "no sigmoid today") }
        // A dtype the backend did not list is unsupported without asking it.
        do {
            _ = try b.call("relu", ["input": .tensor(Tensor(shape: [1], [1.0]))])
            Issue.record("float64 should be unsupported")
        } catch let u as Unsupported { #expect(u.reason == "the fake backend takes float32 tensors, not float64") }
        // The signature still applies: an unknown keyword is PyTorch's TypeError before any request.
        #expect(throws: TorchError.type("relu() got an unexpected keyword argument 'colour'")) {
            try b.call("relu", ["input": .tensor(tensor([1])), "colour": .int(1)])
        }
        #expect(b.restarts == 0)
        #expect(try b.call("relu", ["input": .tensor(tensor([-1]))]).tensor?.values(Float.self) == [0])
    }

    func backendError(_ body: () throws -> Value) -> TorchError? {
        do {
            _ = try body()
            Issue.record("expected a BackendError")
            return nil
        } catch let e as TorchError {
            #expect(e.type == "BackendError")
            return e
        } catch {
            Issue.record("expected a BackendError, got \(error)")
            return nil
        }
    }

    @Test func crashIsTheCallsErrorAndTheNextCallRestarts() throws {
        let b = try fake()
        let e = try #require(backendError { try b.call("exp", ["input": .tensor(tensor([1]))]) })
        #expect(e.message.contains("call 1 (exp): the process closed its stdout; it exited with status 3"))
        #expect(e.message.contains("boom: exp exploded"))
        #expect(try b.call("relu", ["input": .tensor(tensor([2]))]).tensor?.values(Float.self) == [2])
        #expect(b.restarts == 1)
    }

    @Test func hangTimesOutAndRestarts() throws {
        let b = try fake(timeout: 1)
        let start = Date()
        let e = try #require(backendError { try b.call("softmax", ["input": .tensor(tensor([1])), "dim": .int(0)]) })
        #expect(Date().timeIntervalSince(start) < 5)
        #expect(e.message.contains("no answer within 1.0 s"))
        #expect(e.message.contains("op=softmax"))  // stderr tail
        #expect(try b.call("relu", ["input": .tensor(tensor([2]))]).tensor?.values(Float.self) == [2])
        #expect(b.restarts == 1)
    }

    @Test func garbageAndWrongIdsAreProtocolViolations() throws {
        let b = try fake()
        let garbage = try #require(backendError { try b.call("neg", ["input": .tensor(tensor([1]))]) })
        #expect(garbage.message.contains("protocol violation: the answer is not a JSON line"))
        #expect(garbage.message.contains("'this is not json'"))
        let wrongID = try #require(backendError { try b.call("mul", ["input": .tensor(tensor([1])), "other": .double(2)]) })
        #expect(wrongID.message.contains("protocol violation: answer to call 2 carries id 102"))
        #expect(try b.call("relu", ["input": .tensor(tensor([2]))]).tensor?.values(Float.self) == [2])
        #expect(b.restarts == 2)
    }

    @Test func backwardIsUnsupportedWhenTheBackendSaysSo() throws {
        let b = try fake(["nobackward"])
        let x = tensor([1, -1], requiresGrad: true)
        let y = try #require(try b.call("relu", ["input": .tensor(x)]).tensor)
        #expect(throws: Unsupported.self) { try y.backward(gradient: tensor([1, 1])) }
    }

    @Test func startFailures() throws {
        #expect(throws: TorchError.self) { try ExecBackend(command: ["nnconf-no-such-command-xyz"]) }
        do {
            _ = try ExecBackend(command: ["python3", "-c", "import sys; print('hello there'); print('oops', file=sys.stderr)"], startupTimeout: 20)
            Issue.record("a banner on stdout must fail the handshake")
        } catch let e as TorchError {
            #expect(e.message.contains("hello failed: protocol violation: the first line is not JSON"))
            #expect(e.message.contains("oops"))
        }
    }

    @Test func runnerJudgesAnExecBackend() throws {
        let b = try fake()
        let x = #"{"shape": [3], "dtype": "float32", "data": [1, -2, 3], "requires_grad": true}"#
        let doc = #"""
            {"format": "nnconf/1", "generator": {"name": "torch", "version": "2.15.0"}, "cases": [
             {"name": "relu", "call": "relu", "args": {"input": \#(x)},
              "expect": {"output": {"shape": [3], "dtype": "float32", "data": [1, 0, 3]}},
              "backward": {"grad_output": {"shape": [3], "dtype": "float32", "data": [1, 2, 3]},
                           "grads": {"input": {"shape": [3], "dtype": "float32", "data": [1, 0, 3]}}}},
             {"name": "tanh_error", "call": "tanh", "args": {"input": \#(x)},
              "expect": {"error": {"type": "ValueError", "match": "bad value"}}},
             {"name": "sigmoid", "call": "sigmoid", "args": {"input": \#(x)}},
             {"name": "gelu", "call": "gelu", "args": {"input": \#(x)}},
             {"name": "crash", "call": "exp", "args": {"input": \#(x)}},
             {"name": "after_crash", "call": "relu", "args": {"input": \#(x)},
              "expect": {"output": {"shape": [3], "dtype": "float32", "data": [1, 0, 3]}}}
            ]}
            """#
        let path = URL(fileURLWithPath: Self.fakePath).deletingLastPathComponent().appendingPathComponent("exec-cases-\(UUID()).json").path
        try doc.write(toFile: path, atomically: true, encoding: .utf8)
        var options = RunOptions()
        options.timeBudget = 0
        let runner = Runner(backends: [b], options: options)
        let results = runner.run(runner.selected([FixtureLoader.loadFile(path: path, relativeName: "exec")]))
        #expect(results.map(\.status) == [.pass, .pass, .unsupported, .unsupported, .error, .pass])
        #expect(results[4].message?.contains("BackendError") == true)
        #expect(results.allSatisfy { $0.backend == "fake" })
    }

    /// Opt-in: runs bundled fixtures through a real exec backend and prints the counts, e.g.
    /// `NNCONF_EXEC_DRIVER="python3 $PWD/tools/torch_backend.py" NNCONF_EXEC_FIXTURES=softmax,conv
    /// swift test --filter ExecBackendTests/realBackend`. Program cases are counted apart
    /// (unsupported on exec backends); any fail, error or invalid single-call case is an issue.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["NNCONF_EXEC_DRIVER"] != nil))
    func realBackend() throws {
        let env = ProcessInfo.processInfo.environment
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures").path
        let dirs = (env["NNCONF_EXEC_FIXTURES"] ?? "softmax,conv").split(separator: ",").map { root + "/" + $0 }
        let started = Date()
        let b = try ExecBackend(command: try ExecBackend.words(env["NNCONF_EXEC_DRIVER"]!))
        let startup = Date().timeIntervalSince(started)
        var options = RunOptions()
        options.timeBudget = Double(env["NNCONF_EXEC_TIME_BUDGET"] ?? "0") ?? 0
        let runner = Runner(backends: [b], options: options)
        let all = runner.selected(try FixtureLoader.load(paths: dirs))
        let withPrograms = env["NNCONF_EXEC_PROGRAMS"] != nil  // to see what programs would do
        let calls = all.filter { if case .program = $0.body { return withPrograms } else { return true } }
        let start = Date()
        let results = runner.run(calls)
        let seconds = Date().timeIntervalSince(start)
        var counts: [Status: Int] = [:]
        for r in results { counts[r.status, default: 0] += 1 }
        print("exec driver: \(b.details)")
        print("exec driver: \(dirs.map { URL(fileURLWithPath: $0).lastPathComponent }.joined(separator: ",")): "
              + Status.allCases.map { "\($0.rawValue) \(counts[$0] ?? 0)" }.joined(separator: ", ")
              + "; \(all.count - calls.count) program cases not run; \(String(format: "%.1f", seconds)) s"
              + " (+ \(String(format: "%.1f", startup)) s startup), \(b.restarts) restarts")
        for r in results where r.status == .unsupported || withPrograms && r.status != .pass {
            print("  \(r.status.rawValue) \(r.id): \((r.message ?? "").prefix(160))")
        }
        for r in results where [.fail, .error, .invalid].contains(r.status) && !withPrograms {
            Issue.record("\(r.status.rawValue) \(r.id): \(r.message ?? "")")
        }
    }

    @Test func commandLineWords() throws {
        #expect(try ExecBackend.words(#"python3  'my backend.py' "a \"b\" c" d\ e --x=1"#)
                == ["python3", "my backend.py", #"a "b" c"#, "d e", "--x=1"])
        #expect(throws: TorchError.self) { try ExecBackend.words("python3 'open") }
        #expect(ExecBackend.display(["python3", "my file.py"]) == "python3 'my file.py'")
    }
}
