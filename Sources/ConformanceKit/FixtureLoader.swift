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
                let base = URL(fileURLWithPath: root).standardizedFileURL.path
                let found = (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? [])
                    .filter { $0.hasSuffix(".json") }.sorted()
                for rel in found {
                    files.append(loadFile(path: base + "/" + rel, relativeName: String(rel.dropLast(5)), maxElements: maxElements))
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
    /// single invalid case named after the file, and a broken case becomes an invalid case.
    public static func loadFile(path: String, relativeName: String, maxElements: Int = defaultMaxElements) -> FixtureFile {
        guard let bytes = FileManager.default.contents(atPath: path) else {
            return FixtureFile(path: path, relativeName: relativeName,
                               cases: [FixtureCase(id: relativeName, file: path, name: "", body: .invalid("\(path): cannot be read"))],
                               warnings: [])
        }
        return loadFile(bytes: [UInt8](bytes), path: path, relativeName: relativeName, maxElements: maxElements)
    }

    /// Loads a file's bytes (already read from `path`, which only names it in messages).
    public static func loadFile(bytes: [UInt8], path: String, relativeName: String, maxElements: Int = defaultMaxElements) -> FixtureFile {
        var file = FixtureFile(path: path, relativeName: relativeName, cases: [], warnings: [])
        func fileInvalid(_ why: String) -> FixtureFile {
            file.cases = [FixtureCase(id: relativeName, file: path, name: "", body: .invalid("\(path): \(why)"))]
            return file
        }
        let json: JSON
        do { json = try JSON.parse(bytes) } catch { return fileInvalid("\(error)") }
        guard json.isObject else { return fileInvalid("the top level must be an object, got \(json.kind)") }
        guard case .string(let format)? = json["format"] else { return fileInvalid("missing \"format\": \"nnconf/1\"") }
        guard format == "nnconf/1" else { return fileInvalid("format '\(format)' is not nnconf/1") }
        guard case .array(let cases)? = json["cases"] else { return fileInvalid("'cases' must be an array") }
        for key in json.keys where !["format", "generator", "cases", "description"].contains(key) {
            file.warnings.append("\(relativeName): unknown top-level key '\(key)' ignored")
        }
        var parser = CaseParser(maxElements: maxElements)
        var seen = Set<String>()
        for (index, c) in cases.enumerated() {
            let where_ = "\(path): case \(index)"
            guard case .string(let name)? = c["name"], !name.isEmpty else {
                file.cases.append(FixtureCase(id: "\(relativeName)/#\(index)", file: path, name: "#\(index)",
                                              body: .invalid("\(where_): missing 'name' (a non-empty string)")))
                continue
            }
            let id = "\(relativeName)/\(name)"
            guard seen.insert(name).inserted else {
                file.cases.append(FixtureCase(id: "\(id)#\(index)", file: path, name: name,
                                              body: .invalid("\(where_) '\(name)': duplicate name in this file")))
                continue
            }
            var parsed = parser.parseCase(c, id: id, file: path, name: name)
            if case .invalid(let why) = parsed.body {
                parsed = FixtureCase(id: id, file: path, name: name, body: .invalid("\(path): case '\(name)': \(why)"))
            }
            file.cases.append(parsed)
        }
        file.warnings += parser.warnings
        return file
    }
}
