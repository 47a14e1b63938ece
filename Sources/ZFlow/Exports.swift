// The vocabulary types (`TaskKey`, `SchedulerInfo`, `WorkerInfo`, `RemoteError`, …) and the word counting
// types (`WordCounts`, `WordCounter`, `FileSegment`) are part of the ZFlow library's API: `import ZFlow`
// brings them in.
@_exported import ZFlowCore
@_exported import ZFlowWords
