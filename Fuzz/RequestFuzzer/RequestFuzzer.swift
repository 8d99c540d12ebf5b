import Foundation
import JobdModel

// The libFuzzer entry point of the request fuzzer (issue 6). `scripts/fuzz.sh` compiles
// this file with `Tests/JobdModelTests/Utils/RequestFuzzChecks.swift` and
// `Sources/JobdClient/NDJSON.swift` against the JobdModel sources; it is not part of
// Package.swift.
//
// Every input goes down both roads a request takes into jobd:
// - as a `POST /v1/jobs` body, through `SubmitJobsRequest.decode` (what JobsController
//   calls), a single spec or a batch;
// - as a `POST /v1/batches` body, through `CreateBatchRequest.decode`;
// - as a `POST /v1/schedules` body, through `ScheduleSpec.decode` (and its cron's fire times);
// - as a `jobctl gather --file` NDJSON file, through `NDJSON.parseSpecs` (after the same
//   UTF-8 check as `SpecFile.read`), then as the batch the client would send.
// Refusals are fine; a broken invariant traps, and libFuzzer keeps the input.

/// Checks one input; traps when an invariant does not hold.
@_cdecl("LLVMFuzzerTestOneInput")
public func requestFuzzerTestOneInput(_ bytes: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let data = size == 0 || bytes == nil ? Data() : Data(bytes: bytes!, count: size)
    do {
        try checkInput(data)
    } catch {
        fatalError("fuzz invariant violated: \(error)")
    }
    return 0
}

private func checkInput(_ data: Data) throws(RequestFuzzChecks.Violation) {
    let outcome = try RequestFuzzChecks.checkSubmitBody(data)
    try RequestFuzzChecks.checkBatchBody(data)
    try RequestFuzzChecks.checkScheduleBody(data)

    // jobctl refuses a file that is not UTF-8 before parsing it.
    guard let text = String(data: data, encoding: .utf8) else { return }
    let lineCount = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).count
    let specs: [JobSpec]
    do throws(NDJSON.LineError) {
        specs = try NDJSON.parseSpecs(text)
    } catch {
        guard (1...lineCount).contains(error.line) else {
            throw RequestFuzzChecks.Violation("NDJSON blames line \(error.line) of \(lineCount): \(error)")
        }
        try RequestFuzzChecks.checkError(error.error, codes: RequestFuzzChecks.lineCodes)
        if case .accepted(.single(let spec)) = outcome, isOneLine(data) {
            throw RequestFuzzChecks.Violation("the daemon accepts \(spec) but NDJSON refuses the line: \(error)")
        }
        return
    }
    guard specs.count <= lineCount else {
        throw RequestFuzzChecks.Violation("NDJSON found \(specs.count) specs in \(lineCount) lines")
    }
    for spec in specs {
        try RequestFuzzChecks.checkSpec(spec)
    }
    try RequestFuzzChecks.checkGatherBatch(specs)
    // One line that the daemon takes as a single spec is the same spec to gather.
    if case .accepted(.single(let spec)) = outcome, isOneLine(data), specs != [spec] {
        throw RequestFuzzChecks.Violation("the daemon reads \(spec), NDJSON reads \(specs)")
    }
}

/// No newline (NDJSON would split it) and no NUL (UTF-16 or UTF-32 JSON, which the
/// daemon's decoder may accept but NDJSON's whitespace trimming can misalign).
private func isOneLine(_ data: Data) -> Bool {
    !data.contains(UInt8(ascii: "\n")) && !data.contains(0)
}
