import ArgumentParser
import Foundation
import ZFlow
import ZFlowCore

/// `zflow keygen DIR`: a security directory for one cluster, and identities added to it.
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen", abstract: "Create a security directory (CurveZMQ keys) for a cluster, or add identities to one.",
        discussion: """
            zflow keygen DIR                   the scheduler's key pair, a 'worker' and a 'client' identity
            zflow keygen DIR --add admin ops   one more identity (roles: worker, client, admin)
            Secret files are mode 0600. Deleting ROLE/NAME.public revokes NAME: the scheduler and workers re-read
            the folders when they change. Give each host only what it needs (docs/security.md).
            """)

    @Argument(help: "The security directory.")
    var directory: String

    @Option(
        parsing: .upToNextOption,
        help: ArgumentHelp("Add an identity to an existing directory: ROLE NAME (worker, client or admin).", valueName: "role name"))
    var add: [String] = []

    func validate() throws {
        guard add.isEmpty || add.count == 2 else { throw ValidationError("--add takes a role and a name, e.g. --add admin ops") }
        if let role = add.first, Role(rawValue: role) == nil {
            throw ValidationError("--add: the role must be worker, client or admin, got '\(role)'")
        }
    }

    func run() throws {
        do {
            if add.count == 2, let role = Role(rawValue: add[0]) {
                guard FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent("scheduler.public")) else {
                    fail("zflow: \(directory) is not a security directory (zflow keygen \(directory) makes one)", status: .badInput)
                }
                try SecurityDirectory(directory).add(role, name: add[1])
                print("added \(role.folder)/\(add[1]).public and .secret to \(directory)")
            } else {
                try SecurityDirectory.create(at: directory)
                print("created \(directory): scheduler, workers/worker, clients/client (add an admin: zflow keygen \(directory) --add admin NAME)")
            }
        } catch {
            fail("zflow: \(error)", status: .badInput)
        }
    }
}
