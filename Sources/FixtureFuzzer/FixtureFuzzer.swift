// The fixture fuzzer. Built with `-sanitize=fuzzer` and `-DFUZZING` (tools/fuzz.sh) it is a
// libFuzzer target: each input is loaded as a fixture file and its cases run on the reference
// backend (`FuzzHarness`). Built plainly it is the reproducer: it runs each file given (or
// every file of a directory given) once, the same way, and prints the statuses.
import ConformanceKit
import Foundation

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    FuzzHarness.run(bytes, limits: limits)
    return 0
}

/// Numbers of 2^40 or more reach the ops (`Limits.admitHugeNumbers`) unless `NNCONF_FUZZ_HUGE=0`.
let limits: FuzzHarness.Limits = {
    var l = FuzzHarness.Limits()
    l.admitHugeNumbers = ProcessInfo.processInfo.environment["NNCONF_FUZZ_HUGE"] != "0"
    return l
}()

/// libFuzzer's driver (in the runtime `-sanitize=fuzzer` links), called from our own entry
/// point: SwiftPM links an executable target with `main` aliased to `FixtureFuzzer_main`, so
/// libFuzzer's `main` cannot be the one that runs.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

@_cdecl("FixtureFuzzer_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc, argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, fuzzOneInput)
}
#else
@main
enum Reproducer {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        if arguments.isEmpty {
            print("usage: FixtureFuzzer FILE_OR_DIR...  (runs each input once, as the fuzzer does)")
        }
        for given in arguments {
            var isDir: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: given, isDirectory: &isDir)
            let paths = isDir.boolValue
                ? ((try? FileManager.default.contentsOfDirectory(atPath: given)) ?? []).filter { !$0.hasPrefix(".") && !$0.hasSuffix(".md") }
                    .sorted().map { given + "/" + $0 }
                : [given]
            if !exists { print("\(given): no such file") }
            for path in paths {
                guard let data = FileManager.default.contents(atPath: path) else { continue }
                var limits = FuzzHarness.Limits()
                limits.admitHugeNumbers = ProcessInfo.processInfo.environment["NNCONF_FUZZ_HUGE"] != "0"
                let results = FuzzHarness.run([UInt8](data), limits: limits)
                let statuses = Dictionary(grouping: results, by: \.status.rawValue).mapValues(\.count)
                let summary = statuses.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
                print("\(path): \(summary.isEmpty ? "no case run (beyond the fuzzing limits)" : summary)")
            }
        }
    }
}
#endif
