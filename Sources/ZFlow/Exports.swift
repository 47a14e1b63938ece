// The vocabulary types (`TaskKey`, `SchedulerInfo`, `WorkerInfo`, `RemoteError`, …) are part of the ZFlow
// library's API: `import ZFlow` brings them in.
@_exported import ZFlowCore
