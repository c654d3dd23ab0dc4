import ArgumentParser
import ConformanceKit
import Foundation
import NNCore
import NNModules
import NNOptimized
import NNReference

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the ops and modules, which backends implement the ops, and how many fixture cases cover each.")

    @Argument(help: "Fixture files or directories to count cases in.")
    var paths: [String] = ["Fixtures"]

    func run() throws {
        let cases = ((try? FixtureLoader.load(paths: paths)) ?? []).flatMap(\.cases)
        var ops: [String: Int] = [:], modules: [String: Int] = [:]
        for c in cases {
            switch c.body {
            case .call(let spec): ops[spec.op, default: 0] += 1
            case .program(let steps):
                for op in Set(steps.flatMap(\.ops)) { ops[op, default: 0] += 1 }
                for m in Set(steps.flatMap(\.moduleClasses)) { modules[m, default: 0] += 1 }
            case .invalid: break
            }
        }
        let backends: [any Backend] = [Reference.backend, Optimized.backend]
        let column = { (s: String) in s.padding(toLength: 26, withPad: " ", startingAt: 0) }
        print(column("op") + backends.map { column($0.name) }.joined() + "fixture cases")
        for op in Signatures.all.keys.sorted() {
            print(column(op) + backends.map { column($0.implementation(of: op) == nil ? "-" : "yes") }.joined() + "\(ops[op] ?? 0)")
        }
        print("\n" + column("module (torch.nn)") + "fixture cases")
        for m in Modules.classNames { print(column(m) + "\(modules[m] ?? 0)") }
        let unknownOps = ops.keys.filter { Signatures.all[$0] == nil }.sorted()
        let unknownModules = modules.keys.filter { !Modules.classNames.contains($0) }.sorted()
        if !unknownOps.isEmpty { print("\nops in fixtures that nnconf does not know: " + unknownOps.joined(separator: ", ")) }
        if !unknownModules.isEmpty { print("modules in fixtures that nnconf does not know: " + unknownModules.joined(separator: ", ")) }
    }
}
