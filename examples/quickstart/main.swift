// The seed scenario: submit, futures as arguments, map and gather, on a cluster you started by hand
// (`zflow-scheduler --port 8786` and two `zflow-worker tcp://127.0.0.1:8786`), or on an embedded one when no
// address is given.
import ZFlow

let inc = StandardFunctions.inc
let add = StandardFunctions.add

let cluster: LocalCluster? = CommandLine.arguments.count > 1 ? nil : try LocalCluster(workers: 2)
let address = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : cluster!.address

let client = try await Client.connect(address)
let x = try await client.submit(inc, 1)
let y = try await client.submit(inc, 2)
let z = try await client.submit(add, x, y)
print("add(inc(1), inc(2)) =", try await z.result())

let ys = try await client.map(inc, Array(0..<10_000))
let total = try await client.gather(ys).reduce(0, +)
print("sum of inc over 0..<10000 =", total)
client.close()
cluster?.shutdown()
