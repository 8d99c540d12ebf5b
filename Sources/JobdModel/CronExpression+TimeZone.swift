import Foundation

extension CronExpression {
    /// Where Linux keeps the system's IANA time zone database.
    static let zoneinfoDirectory = "/usr/share/zoneinfo"

    /// Resolves a schedule's time zone name, accepting IANA names only.
    ///
    /// Accepted: `UTC`, `GMT`, and any IANA zone or link name that Foundation knows, such as
    /// `Europe/Berlin`, `America/New_York`, `Asia/Kolkata` or `Etc/UTC`. Names are
    /// case-sensitive, as in tzdata.
    ///
    /// Rejected: unknown names, and the extra names Foundation on Linux accepts through ICU
    /// that are not IANA zones: abbreviations such as `IST` (which ICU reads as India, not
    /// Ireland or Israel) or `BST` (Bangladesh), offsets such as `GMT+1` or `UTC+2`, and
    /// ICU-only legacy names such as `SystemV/AST4`.
    ///
    /// - Important: On Linux, `TimeZone(identifier: "UTC")` reports its identifier as `GMT`.
    ///   Keep the name the user gave for display and storage, not the zone's `identifier`.
    /// - Throws: ``CronError`` with `field` `"timezone"` naming the rejected name.
    public static func timeZone(named name: String) throws(CronError) -> TimeZone {
        guard let zone = TimeZone(identifier: name), isIANAZoneName(name) else {
            throw CronError(
                field: "timezone",
                reason: "unknown time zone \"\(name)\"; use an IANA name such as Europe/Berlin, America/New_York or UTC"
            )
        }
        return zone
    }

    /// Whether `name` is an IANA zone name, not one of ICU's additions.
    private static func isIANAZoneName(_ name: String) -> Bool {
        if name == "UTC" || name == "GMT" || TimeZone.knownTimeZoneIdentifiers.contains(name) {
            return true
        }
        // Foundation's list on Linux leaves out many valid IANA names (Asia/Kolkata, Etc/UTC,
        // CET, every Etc/GMT±n and backward link), so look the name up in the system's tzdata.
        // This is the one file-system read in JobdModel: a stat, at validation time only.
        // Factory is a tzdata placeholder meaning "the zone was never set".
        let components = name.split(separator: "/", omittingEmptySubsequences: false)
        guard name != "Factory", components.allSatisfy(isZoneNameComponent) else { return false }
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: "\(zoneinfoDirectory)/\(name)", isDirectory: &isDirectory)
        return exists && !isDirectory.boolValue
    }

    /// Whether a path component can be part of a tzdata name: starts with a letter (so never
    /// `.` or `..`), then letters, digits, `_`, `+` and `-`.
    private static func isZoneNameComponent(_ component: Substring) -> Bool {
        guard let first = component.first, first.isASCII, first.isLetter else { return false }
        return component.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_+-".contains($0)) }
    }
}
