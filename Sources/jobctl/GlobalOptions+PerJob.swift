import ArgumentParser
import JobctlOutput
import JobdClient
import JobdModel

extension GlobalOptions {
    /// Runs one API call per job id, in order, for `cancel` and `retry`.
    ///
    /// Prints `line(answer)` per job, or with `--json` all answers as one JSON array at
    /// the end. An API error for one job prints `error: job N: …` and the rest go on.
    ///
    /// - Throws: `ExitCode` 1 when any job failed; connection errors as they come.
    func forEachJob<Answer: Encodable>(
        _ ids: [JobIDArgument], _ call: (JobdClient, JobID) async throws -> Answer, line: (Answer) -> String
    ) async throws {
        let allDone = try await withClient { client in
            var answers: [Answer] = []
            var allDone = true
            for argument in ids {
                do {
                    let answer = try await call(client, argument.id)
                    answers.append(answer)
                    if !json { Output.line(line(answer)) }
                } catch let error as APIError {
                    Output.error("error: job \(argument.id): \(error)")
                    allDone = false
                }
            }
            if json { try Output.json(answers) }
            return allDone
        }
        if !allDone { throw ExitCode(ExitCodes.failure) }
    }
}
