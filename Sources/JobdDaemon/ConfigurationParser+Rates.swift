import Foundation
import JobdRuntime

// The rate-limit keys: `limits.per_host_rate` (one rate) and `limits.host_rates` (a map
// of host or host:port to rate).
extension ConfigurationParser {
    /// A rate (`20/s`, `600/m`, `2/h`, `0.5/s`), or nil for null.
    static func optionalRate(_ raw: RawSetting) throws -> RateLimit? {
        guard let text = try optionalText(raw) else { return nil }
        return try rate(text)
    }

    /// A rate, from its text.
    static func rate(_ text: String) throws -> RateLimit {
        do {
            return try RateLimit(parsing: text)
        } catch let error as RateLimit.ParseError {
            throw InvalidValue(error.reason)
        }
    }

    /// The entries of `limits.host_rates`: a YAML map (`{"api.example.com": "2/s"}`), or
    /// its text form `api.example.com=2/s,127.0.0.1:8080=20/s` (a `JOBD_*` variable); null
    /// or `{}` for none.
    static func hostRates(_ raw: RawSetting) throws -> [HostRateTable.HostPattern: RateLimit] {
        let pairs: [(host: String, rate: String)]
        switch raw {
        case .map(let map):
            pairs = map.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        case .list:
            throw InvalidValue(#"expected a map of host to rate, like {"api.example.com": "2/s"}, not a list"#)
        case .scalar(let text):
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            if isNull(trimmed) || trimmed == "{}" { return [:] }
            pairs = try trimmed.split(separator: ",").map { item in
                let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2 else {
                    throw InvalidValue(
                        "\(item.trimmingCharacters(in: .whitespaces).debugDescription) is not host=rate "
                            + "(like api.example.com=2/s,127.0.0.1:8080=20/s)")
                }
                return (
                    parts[0].trimmingCharacters(in: .whitespaces), parts[1].trimmingCharacters(in: .whitespaces)
                )
            }
        }
        var entries: [HostRateTable.HostPattern: RateLimit] = [:]
        var spelled: [HostRateTable.HostPattern: String] = [:]
        for (host, text) in pairs {
            let pattern: HostRateTable.HostPattern
            do {
                pattern = try HostRateTable.pattern(host)
            } catch let error as HostRateTable.InvalidHost {
                throw InvalidValue(error.reason)
            }
            if let earlier = spelled[pattern] {
                throw InvalidValue("\(earlier.debugDescription) and \(host.debugDescription) name the same host")
            }
            spelled[pattern] = host
            do {
                guard !isNull(text) else { throw InvalidValue(#"expected a rate like "20/s", not null"#) }
                entries[pattern] = try rate(text)
            } catch let error as InvalidValue {
                throw InvalidValue("\(host.debugDescription): \(error.reason)")
            }
        }
        return entries
    }

    /// A rate as YAML (`"20/s"`), or `null`.
    static func renderRate(_ rate: RateLimit?) -> String {
        rate.map { quote($0.description) } ?? "null"
    }

    /// The entries as a YAML flow map, by host: `{"127.0.0.1:8080": "20/s"}`.
    static func renderHostRates(_ entries: [HostRateTable.HostPattern: RateLimit]) -> String {
        let items = entries.sorted { $0.key < $1.key }.map {
            "\(quote($0.key.description)): \(quote($0.value.description))"
        }
        return "{" + items.joined(separator: ", ") + "}"
    }
}
