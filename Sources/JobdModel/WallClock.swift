import Foundation

/// A time zone's wall clock: converts between instants and local wall-clock times, both as
/// whole seconds since 1970-01-01 (a local time counts as if it were UTC).
///
/// Only `TimeZone.secondsFromGMT(for:)` is asked, because it answers for an instant and has
/// one answer. Mapping a wall-clock time back to an instant is done here, explicitly, not with
/// `Calendar.date(from:)`: Foundation moves a skipped time forward by the gap's length
/// (02:30 becomes 03:30) rather than to the gap's end, which is not the rule jobd promises.
struct WallClock {
    let zone: TimeZone

    /// The zone's offset from UTC in seconds at an instant.
    func offset(at instant: Int) -> Int {
        zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(instant)))
    }

    /// The wall-clock time the zone shows at an instant.
    func localSeconds(at instant: Int) -> Int {
        instant + offset(at: instant)
    }

    /// The one instant a wall-clock time stands for.
    ///
    /// - A time the zone shows once is that instant.
    /// - A time it shows twice (the clocks went back) is the first, earlier, instant.
    /// - A time it skips (the clocks went forward) is the instant the gap ends: in
    ///   Europe/Berlin on 2027-03-28, 02:30 is 03:00 CEST, 01:00 UTC.
    ///
    /// The result never decreases as `local` increases, which is what lets the fire-time
    /// search walk wall-clock times in order and stop early.
    func instant(forLocalSeconds local: Int) -> Int {
        // Any instant showing `local` lies within about 14 hours of it. tzdata zones change
        // their offset at most once within a day either side, so these two offsets are all
        // the offsets `local` can have been shown under.
        let earlier = offset(at: local - 86_400)
        let later = offset(at: local + 86_400)
        let candidates = [local - earlier, local - later].filter { localSeconds(at: $0) == local }
        if let first = candidates.min() {
            return first
        }
        // A gap: the clocks jumped from before `local` to after it, from `earlier` to a larger
        // `later`. Find the first instant showing `local` or later: the transition.
        var low = local - max(earlier, later)
        var high = local - min(earlier, later)
        guard localSeconds(at: low) < local, localSeconds(at: high) >= local else {
            // Not the one-transition shape tzdata has; the later offset is the best guess.
            return local - later
        }
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if localSeconds(at: middle) >= local {
                high = middle
            } else {
                low = middle
            }
        }
        return high
    }
}
