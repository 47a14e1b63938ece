import Foundation
import Testing
import ZFlowCore
import ZFlowWire

// MARK: - One value of every case

/// One value of every case of each direction's enum, to read the code's wire names and Swift case names from.
///
/// The `swiftCase` functions switch over each enum without a `default`: a new case does not compile until it
/// is named there, and the tests below then fail until it has a value here and a row in docs/PROTOCOL.md.
enum EveryCase {
    static let workerToScheduler: [WorkerToScheduler] = [
        .register(
            WorkerRegistration(
                name: "w1", nthreads: 2, functions: ["inc"], address: PeerAddress("tcp://127.0.0.1:40001"),
                heartbeatInterval: .milliseconds(100))),
        .taskFinished(key: "a", runID: RunID(1), nbytes: 8, duration: Interval(nanoseconds: 1000)),
        .taskErred(key: "a", runID: RunID(1), error: RemoteError(typeName: "ValueError", message: "no")),
        .taskCrashed(key: "a", runID: RunID(1), signal: 4),
        .missingData(key: "a", holder: PeerAddress("tcp://127.0.0.1:40002")),
        .stealResponse(key: "a", runID: RunID(1), stolen: false),
        .addKeys([KeySize(key: "a", nbytes: 8)]),
        .heartbeat,
        .metrics(WorkerMetrics()),
        .unregister,
    ]

    static let schedulerToWorker: [SchedulerToWorker] = [
        .registered,
        .computeTask(TaskAssignment(key: "a", runID: RunID(1), function: "inc", arguments: Payload([0x91, 0x01]))),
        .freeKeys(["a"]),
        .stealRequest(key: "a", runID: RunID(1)),
        .acquireReplicas([DependencyLocation(key: "a", nbytes: 8, holders: [PeerAddress("tcp://127.0.0.1:40002")])]),
        .retire,
        .error(ProtocolViolation(.unknownWorker, "register again")),
    ]

    static let clientToScheduler: [ClientToScheduler] = [
        .register(version: ProtocolVersion.current),
        .submit([TaskSpec(key: "a", function: "inc", arguments: Payload([0x91, 0x01]))]),
        .release(["a"]),
        .cancel(["a"]),
        .whoHas(["a"]),
        .scattered(worker: "w1", keys: [KeySize(key: "s", nbytes: 1)]),
        .info(keys: []),
        .retireWorkers(["w1"]),
        .heartbeat,
        .unregister,
    ]

    static let schedulerToClient: [SchedulerToClient] = [
        .registered,
        .taskFinished(key: "a", nbytes: 8, holders: [PeerAddress("tcp://127.0.0.1:40001")]),
        .taskErred(key: "a", error: RemoteError(typeName: "ValueError", message: "no")),
        .taskCancelled(key: "a"),
        .whoHas(["a": []]),
        .info(SchedulerInfo(workers: [], taskCounts: [:], clients: 0, counters: SchedulerCounters(), whoHas: [:])),
        .error(ProtocolViolation(.unknownClient, "register again")),
    ]

    static let peerRequest: [PeerRequest] = [
        .getData(["a"]),
        .putData([KeyedPayload(key: "s", payload: Payload([0x01]))]),
    ]

    static let peerReply: [PeerReply] = [
        .data(found: [KeyedPayload(key: "a", payload: Payload([0x08]))], missing: ["b"]),
        .putDataStored(["s"]),
        .pushed(KeyedPayload(key: "a", payload: Payload([0x08]))),
        .error(ProtocolViolation(.forbidden, "a worker key may not put data")),
    ]

    static func swiftCase(_ message: WorkerToScheduler) -> String {
        switch message {
        case .register: "register"
        case .taskFinished: "taskFinished"
        case .taskErred: "taskErred"
        case .taskCrashed: "taskCrashed"
        case .missingData: "missingData"
        case .stealResponse: "stealResponse"
        case .addKeys: "addKeys"
        case .heartbeat: "heartbeat"
        case .metrics: "metrics"
        case .unregister: "unregister"
        }
    }

    static func swiftCase(_ message: SchedulerToWorker) -> String {
        switch message {
        case .registered: "registered"
        case .computeTask: "computeTask"
        case .freeKeys: "freeKeys"
        case .stealRequest: "stealRequest"
        case .acquireReplicas: "acquireReplicas"
        case .retire: "retire"
        case .error: "error"
        }
    }

    static func swiftCase(_ message: ClientToScheduler) -> String {
        switch message {
        case .register: "register"
        case .submit: "submit"
        case .release: "release"
        case .cancel: "cancel"
        case .whoHas: "whoHas"
        case .scattered: "scattered"
        case .info: "info"
        case .retireWorkers: "retireWorkers"
        case .heartbeat: "heartbeat"
        case .unregister: "unregister"
        }
    }

    static func swiftCase(_ message: SchedulerToClient) -> String {
        switch message {
        case .registered: "registered"
        case .taskFinished: "taskFinished"
        case .taskErred: "taskErred"
        case .taskCancelled: "taskCancelled"
        case .whoHas: "whoHas"
        case .info: "info"
        case .error: "error"
        }
    }

    static func swiftCase(_ message: PeerRequest) -> String {
        switch message {
        case .getData: "getData"
        case .putData: "putData"
        }
    }

    static func swiftCase(_ message: PeerReply) -> String {
        switch message {
        case .data: "data"
        case .putDataStored: "putDataStored"
        case .pushed: "pushed"
        case .error: "error"
        }
    }
}

// MARK: - Reading docs/PROTOCOL.md

/// docs/PROTOCOL.md as lines, with just enough Markdown reading for its headings and tables.
struct ProtocolDocument {
    /// The file's lines.
    let lines: [String]

    /// The document, found relative to this file (three levels up is the package root).
    static func load(filePath: String = #filePath) throws -> ProtocolDocument {
        let root = URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("docs/PROTOCOL.md"), encoding: .utf8)
        return ProtocolDocument(lines: text.components(separatedBy: "\n"))
    }

    /// The lines under the first heading that starts with `prefix` (e.g. `"### 5.1 "`), up to the next heading
    /// of the same or a higher level; nil when there is no such heading. Lines in fenced code blocks are never
    /// headings.
    func section(_ prefix: String) -> (heading: String, body: [String])? {
        var inFence = false
        var found: (heading: String, level: Int)?
        var body: [String] = []
        for line in lines {
            if line.hasPrefix("```") { inFence.toggle() }
            let level = inFence ? 0 : line.prefix(while: { $0 == "#" }).count
            if let current = found {
                if level > 0, level <= current.level, line.dropFirst(level).hasPrefix(" ") {
                    return (current.heading, body)
                }
                body.append(line)
            } else if level > 0, line.hasPrefix(prefix) {
                found = (line, level)
            }
        }
        return found.map { ($0.heading, body) }
    }

    /// The tables in `lines`: each a run of lines starting with `|`, as rows of trimmed cells, without the
    /// `|---|` separator row (the first row is the header).
    static func tables(in lines: [String]) -> [[[String]]] {
        var tables: [[[String]]] = []
        var current: [[String]] = []
        for line in lines + [""] {
            if line.hasPrefix("|") {
                let row = cells(line)
                if !row.allSatisfy({ !$0.isEmpty && $0.allSatisfy { "-: ".contains($0) } }) { current.append(row) }
            } else if !current.isEmpty {
                tables.append(current)
                current = []
            }
        }
        return tables
    }

    /// The first table in `lines` whose header's first cell is `firstHeader`.
    static func table(in lines: [String], firstHeader: String) -> [[String]]? {
        tables(in: lines).first { $0.first?.first == firstHeader }
    }

    /// The cells of a table row: split on every `|` not escaped as `\|` (in GitHub Markdown a `|` inside a code
    /// span splits the cell too).
    static func cells(_ row: String) -> [String] {
        var cells: [String] = []
        var cell = ""
        var escaped = false
        for character in row {
            if escaped {
                cell.append(character)
                escaped = false
            } else if character == "\\" {
                cell.append(character)
                escaped = true
            } else if character == "|" {
                cells.append(cell)
                cell = ""
            } else {
                cell.append(character)
            }
        }
        cells.append(cell)
        // A row starts and ends with `|`: drop the empty text before the first and after the last.
        return cells.dropFirst().dropLast().map { $0.trimmingCharacters(in: .whitespaces) }
    }

    /// The contents of each backticked span in `text`.
    static func backticked(_ text: String) -> [String] {
        text.split(separator: "`", omittingEmptySubsequences: false).enumerated()
            .filter { $0.offset % 2 == 1 }.map { String($0.element) }
    }

    /// `.register(version:)` → `register`.
    static func caseName(_ code: String) -> String {
        String(code.drop(while: { $0 == "." }).prefix(while: { $0 != "(" }))
    }

    /// The bytes of hexadecimal pairs in `text` (`5a 46 03`, `0x5A 0x46`, `dd00000001`), nil when any word is
    /// not hexadecimal.
    static func bytes(_ text: String) -> [UInt8]? {
        var result: [UInt8] = []
        for word in text.split(whereSeparator: \.isWhitespace) {
            let digits = word.hasPrefix("0x") ? word.dropFirst(2) : word[...]
            guard digits.count % 2 == 0, !digits.isEmpty else { return nil }
            var index = digits.startIndex
            while index < digits.endIndex {
                let next = digits.index(index, offsetBy: 2)
                guard let byte = UInt8(digits[index..<next], radix: 16) else { return nil }
                result.append(byte)
                index = next
            }
        }
        return result
    }
}

// MARK: - Directions

/// One direction's message table (§5.1–§5.6) and the code's operations for it.
struct Direction: Sendable, CustomStringConvertible {
    /// One row: the wire name and the Swift case it maps to.
    struct Operation: Hashable, Sendable, CustomStringConvertible {
        let op: String
        let swiftCase: String
        var description: String { "`\(op)` ↔ `.\(swiftCase)`" }
    }

    /// The section number, e.g. `5.1`.
    let section: String
    /// The Swift enum the section's heading names.
    let typeName: String
    /// One per case of the enum, read from `EveryCase`.
    let operations: [Operation]
    /// Encodes every sample as one batch and decodes it: whether each came back unchanged.
    let roundTrips: @Sendable () throws -> Bool

    init<M: WireMessage & Equatable>(_ section: String, _ samples: [M], swiftCase: @escaping @Sendable (M) -> String) {
        self.section = section
        typeName = String(describing: M.self)
        operations = samples.map { Operation(op: $0.op, swiftCase: swiftCase($0)) }
        roundTrips = {
            try OperationDecoder().decode(M.self, frames: OperationWriter.frames(samples)) == samples.map { .success($0) }
        }
    }

    var description: String { "§\(section) \(typeName)" }

    static let all: [Direction] = [
        Direction("5.1", EveryCase.workerToScheduler, swiftCase: EveryCase.swiftCase),
        Direction("5.2", EveryCase.schedulerToWorker, swiftCase: EveryCase.swiftCase),
        Direction("5.3", EveryCase.clientToScheduler, swiftCase: EveryCase.swiftCase),
        Direction("5.4", EveryCase.schedulerToClient, swiftCase: EveryCase.swiftCase),
        Direction("5.5", EveryCase.peerRequest, swiftCase: EveryCase.swiftCase),
        Direction("5.6", EveryCase.peerReply, swiftCase: EveryCase.swiftCase),
    ]
}

// MARK: - Tests

/// docs/PROTOCOL.md is the source of truth (STYLE.md §3): these tests hold the code to its message tables,
/// its status-code table and its version, so neither can change without the other.
@Suite("docs/PROTOCOL.md matches the code")
struct ProtocolDocumentTests {
    let document: ProtocolDocument

    init() throws { document = try ProtocolDocument.load() }

    @Test("every direction's table lists exactly the code's operations", arguments: Direction.all)
    func messageTable(_ direction: Direction) throws {
        let place = "§\(direction.section)"
        let section = try #require(document.section("### \(direction.section) "), "no heading `### \(direction.section) `")
        #expect(section.heading.contains("`\(direction.typeName)`"), "\(place) should name \(direction.typeName): \(section.heading)")
        let table = try #require(
            ProtocolDocument.table(in: section.body, firstHeader: "op (wire)"), "\(place) has no `| op (wire) |` table")
        let width = table[0].count
        var documented: [Direction.Operation] = []
        for row in table.dropFirst() {
            #expect(row.count == width, "\(place): a row of \(row.count) cells, not \(width) (an unescaped `|`?): \(row.prefix(2))")
            let ops = ProtocolDocument.backticked(row[0])
            let cases = row.count > 1 ? ProtocolDocument.backticked(row[1]).map(ProtocolDocument.caseName) : []
            #expect(!ops.isEmpty && ops.count == cases.count, "\(place): the ops \(ops) and Swift cases \(cases) of a row do not pair up")
            documented += zip(ops, cases).map { Direction.Operation(op: $0, swiftCase: $1) }
        }

        let documentedOps = documented.map(\.op)
        let codeOps = Set(direction.operations.map(\.op))
        #expect(documentedOps.count == Set(documentedOps).count, "\(place) lists an op twice: \(documentedOps)")
        let onlyDocumented = Set(documentedOps).subtracting(codeOps).sorted()
        #expect(onlyDocumented.isEmpty, "\(place) lists ops the code has no case for (or EveryCase no sample of): \(onlyDocumented)")
        let onlyInCode = codeOps.subtracting(documentedOps).sorted()
        #expect(onlyInCode.isEmpty, "\(direction.typeName) has ops \(place) does not list: \(onlyInCode)")
        // Each row also names the Swift case its op maps to.
        let mismatched = Set(documented).symmetricDifference(direction.operations)
            .filter { codeOps.contains($0.op) && documentedOps.contains($0.op) }.map(\.description).sorted()
        #expect(mismatched.isEmpty, "\(place) and \(direction.typeName) pair ops and cases differently: \(mismatched)")
    }

    @Test("every operation a table lists is written and read back under its name", arguments: Direction.all)
    func operationsRoundTrip(_ direction: Direction) throws {
        #expect(try direction.roundTrips())
    }

    @Test("the status-code table lists exactly the ErrorCode cases")
    func statusCodes() throws {
        let section = try #require(document.section("## 6. "), "no heading `## 6. `")
        let table = try #require(ProtocolDocument.table(in: section.body, firstHeader: "code"), "§6 has no `| code |` table")
        var documented: [Int: String] = [:]
        for row in table.dropFirst() {
            let code = try #require(Int(row[0]), "§6: `\(row[0])` is not a code")
            let name = row.count > 1 ? ProtocolDocument.backticked(row[1]).first.map(ProtocolDocument.caseName) : nil
            #expect(documented[code] == nil, "§6 lists \(code) twice")
            documented[code] = try #require(name, "§6: code \(code) names no `ErrorCode` case")
        }
        let code = Dictionary(uniqueKeysWithValues: ErrorCode.allCases.map { ($0.rawValue, String(describing: $0)) })
        for (rawValue, name) in code.sorted(by: { $0.key < $1.key }) {
            let documentedName = documented[rawValue].map { "`.\($0)`" } ?? "nothing"
            #expect(documented[rawValue] == name, "ErrorCode.\(name) (\(rawValue)): §6 says \(documentedName)")
        }
        let extra = Set(documented.keys).subtracting(code.keys).sorted()
        #expect(extra.isEmpty, "§6 lists codes ErrorCode lacks: \(extra)")
    }

    @Test("the version in the title, §1, §3 frame 0 and the golden example is ProtocolVersion.current")
    func version() throws {
        let current = ProtocolVersion.current
        #expect(document.lines.first?.hasPrefix("# ZFLOW/\(current):") == true, "title: \(document.lines.first ?? "")")

        let scope = try #require(document.section("## 1. "), "no heading `## 1. `")
        let versionLine = try #require(
            scope.body.first { $0.contains("`ProtocolVersion.current`") }, "§1 does not name ProtocolVersion.current")
        #expect(ProtocolDocument.backticked(versionLine).compactMap { Int($0) } == [current], "§1: \(versionLine)")

        let framing = try #require(document.section("## 3. "), "no heading `## 3. `")
        let frames = try #require(ProtocolDocument.table(in: framing.body, firstHeader: "frame"), "§3 has no `| frame |` table")
        let frame0 = try #require(frames.first { $0.first == "0" }, "§3 has no row for frame 0")
        let signature = frame0.dropFirst().flatMap(ProtocolDocument.backticked).compactMap(ProtocolDocument.bytes).first
        #expect(signature == ProtocolVersion.signature, "§3 frame 0: \(frame0)")
        #expect(ProtocolVersion.signature == [0x5A, 0x46, UInt8(current)])

        // The golden `heartbeat`: frame 0 as written, and frame 1 in one line, are what the writer sends.
        let golden = try #require(document.section("### Golden example"), "no golden example")
        let goldenFrame0 = try #require(golden.body.first { $0.hasPrefix("frame 0 ") }, "the golden example has no frame 0")
        let frame0Bytes = goldenFrame0.split(separator: ":", maxSplits: 1).last.flatMap { ProtocolDocument.bytes(String($0)) }
        let oneLine = try #require(
            golden.body.first { $0.hasPrefix("Frame 1 in one line:") }, "the golden example has no one-line frame 1")
        let frame1Bytes = ProtocolDocument.backticked(oneLine).first.flatMap(ProtocolDocument.bytes)
        let written = OperationWriter.frames([WorkerToScheduler.heartbeat]).map { Array($0) }
        #expect([frame0Bytes, frame1Bytes] == written.map { Optional($0) }, "golden example: \(goldenFrame0) / \(oneLine)")
    }
}
