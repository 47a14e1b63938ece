import Foundation
import Testing
import ZFlow
import ZFlowCore
import ZFlowZMQ

/// The security directory on disk: what `zflow keygen` writes, and what the ZAP handler accepts from it.
@Suite struct SecurityDirectoryTests {
    @Test func keygenWritesSecretsPrivatelyAndListsEveryRole() throws {
        let directory = try SecurityTests.makeSecurityDirectory()
        defer { SecurityTests.remove(directory) }
        try directory.add(.admin, name: "ops")
        let secret = try FileManager.default.attributesOfItem(atPath: directory.path + "/clients/client.secret")
        #expect((secret[.posixPermissions] as? Int) == 0o600)
        let (list, problems) = directory.accessList()
        #expect(problems.isEmpty)
        #expect(Set(list.principals.values) == [Principal(.worker, "worker"), Principal(.client, "client"), Principal(.admin, "ops")])
        #expect(throws: SecurityError.self) { try directory.add(.worker, name: "local") }
        #expect(throws: SecurityError.self) { try directory.add(.client, name: "../escape") }
        #expect(throws: SecurityError.self) { try directory.add(.client, name: "client") }
    }

    @Test func aBrokenKeyFileIsSkippedAloneAndAKeyUnderTwoRolesIsRefused() throws {
        let directory = try SecurityTests.makeSecurityDirectory()
        defer { SecurityTests.remove(directory) }
        try "half-written".write(toFile: directory.path + "/clients/new.public", atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(
            atPath: directory.path + "/workers/worker.public", toPath: directory.path + "/admins/doubled.public")
        let (list, problems) = directory.accessList()
        #expect(problems.count == 2, "\(problems)")
        #expect(Set(list.principals.values) == [Principal(.client, "client")], "the rest still counts")
        let workerKey = try directory.identityKeys(for: .worker).1.publicKey
        let request = ZAPRequest(domain: "zflow-scheduler", address: "127.0.0.1", mechanism: "CURVE", clientKey: workerKey)
        guard case .deny = list.decide(request) else {
            Issue.record("a key listed as worker and admin gets neither role")
            return
        }
    }
}
