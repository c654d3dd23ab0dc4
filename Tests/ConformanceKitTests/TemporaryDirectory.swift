import Foundation

/// A fresh directory under the system's temporary directory, for a test's files. Remove it when
/// the test is done (`defer { dir.remove() }`), so test runs leave nothing behind.
struct TemporaryDirectory {
    let url: URL
    var path: String { url.path }

    init(_ prefix: String) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func appendingPathComponent(_ component: String) -> URL { url.appendingPathComponent(component) }

    func remove() { try? FileManager.default.removeItem(at: url) }
}
