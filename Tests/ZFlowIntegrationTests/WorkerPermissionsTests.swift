import Foundation
import Testing
import ZFlow

/// Which paths a worker's file permissions let a function read: the roots themselves and everything under them,
/// with `..` and symbolic links resolved first; nothing beside them, however the name begins.
@Suite("Worker file permissions")
struct WorkerPermissionsTests {
    /// A root allows itself and its descendants; a sibling whose name merely starts like the root, its parent
    /// and a `..` escape are refused.
    @Test func aRootAllowsItselfAndWhatIsUnderItOnly() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("zflow-permissions-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: base) }
        try FileManager.default.createDirectory(atPath: base + "/data/sub", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: base + "/database", withIntermediateDirectories: true)
        let permissions = WorkerPermissions(fileRoots: [base + "/data"])
        let root = WorkerPermissions(fileRoots: [base + "/data"]).fileRoots[0]
        #expect(try permissions.readableFile(base + "/data") == root)
        #expect(try permissions.readableFile(base + "/data/sub/file.txt") == root + "/sub/file.txt")
        for refused in [base + "/database/file.txt", base, base + "/data/../database/file.txt", "/etc/passwd"] {
            #expect(throws: FileAccessRefused.self, "\(refused)") { try permissions.readableFile(refused) }
        }
    }

    /// A symbolic link inside a root that points outside it is refused, for files that exist and for files that
    /// do not exist yet: the check is made on the resolved path.
    @Test func aLinkOutOfARootIsRefused() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("zflow-permissions-link-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: base) }
        try FileManager.default.createDirectory(atPath: base + "/data", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: base + "/secret", withIntermediateDirectories: true)
        try Data("secret".utf8).write(to: URL(fileURLWithPath: base + "/secret/file.txt"))
        try FileManager.default.createSymbolicLink(atPath: base + "/data/link", withDestinationPath: base + "/secret")
        let permissions = WorkerPermissions(fileRoots: [base + "/data"])
        #expect(throws: FileAccessRefused.self) { try permissions.readableFile(base + "/data/link/file.txt") }
        // Also for a file that does not exist yet (it could be made there between the check and the open).
        #expect(throws: FileAccessRefused.self) { try permissions.readableFile(base + "/data/link/later.txt") }
        #expect(throws: FileAccessRefused.self) { try permissions.readableFile(base + "/data/link/new/../later.txt") }
        // `..` after a missing component or a file steps back by name, and the link after it is still followed.
        try Data("mine".utf8).write(to: URL(fileURLWithPath: base + "/data/mine.txt"))
        #expect(throws: FileAccessRefused.self) { try permissions.readableFile(base + "/data/new/../link/file.txt") }
        #expect(throws: FileAccessRefused.self) { try permissions.readableFile(base + "/data/mine.txt/../link/file.txt") }
        // A dangling link to a place outside, where a file could be made later, is refused.
        try FileManager.default.createSymbolicLink(atPath: base + "/data/dangling", withDestinationPath: base + "/secret/later")
        #expect(throws: FileAccessRefused.self) { try permissions.readableFile(base + "/data/dangling") }
        #expect(try permissions.readableFile(base + "/data/./mine.txt").hasSuffix("/data/mine.txt"))
        #expect(try permissions.readableFile(base + "/data/new/later.txt").hasSuffix("/data/new/later.txt"))
    }

    /// Many roots (one per file, as the word count example gives) are checked without scanning all of them.
    @Test func manyRootsEachAllowTheirOwnFile() throws {
        let roots = (0..<10_000).map { "/srv/corpus/file-\($0).txt" }
        let permissions = WorkerPermissions(fileRoots: roots)
        #expect(permissions.fileRoots[0] == "/srv/corpus/file-0.txt", "a path that does not exist resolves by name")
        for index in stride(from: 0, to: 10_000, by: 997) {
            #expect(try permissions.readableFile("/srv/corpus/file-\(index).txt") == "/srv/corpus/file-\(index).txt")
        }
        #expect(throws: FileAccessRefused.self) { try permissions.readableFile("/srv/corpus/other.txt") }
    }
}
