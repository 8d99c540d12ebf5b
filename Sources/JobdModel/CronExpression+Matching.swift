/// Walking local wall-clock times that match, in whole minutes since 1970-01-01 local time.
///
/// The walk goes day by day, skipping whole months that do not match, and only within a
/// matching day looks at hours and then minutes, through the fields' bit sets. So finding
/// `0 0 29 2 *` four years away visits about 120 days, not two million minutes.
extension CronExpression {
    /// Minutes in a day.
    static let minutesPerDay = 1440

    /// The first matching local minute at or after `start`, on a day before `endDay`.
    ///
    /// - Parameters:
    ///   - start: a local time, minutes since 1970-01-01 00:00 local.
    ///   - endDay: the first day number (days since 1970-01-01) not searched.
    func firstMatch(atOrAfter start: Int, beforeDay endDay: Int) -> Int? {
        var day = Self.floorDivide(start, Self.minutesPerDay)
        var fromMinute = start - day * Self.minutesPerDay
        while day < endDay {
            let date = CivilDate(dayNumber: day)
            if !month.contains(date.month) {
                day += CivilDate.daysInMonth(year: date.year, month: date.month) - date.day + 1
                fromMinute = 0
                continue
            }
            if matchesDay(month: date.month, day: date.day, weekday: CivilDate.weekday(dayNumber: day)),
                let time = firstTime(atOrAfter: fromMinute)
            {
                return day * Self.minutesPerDay + time
            }
            day += 1
            fromMinute = 0
        }
        return nil
    }

    /// The last matching local minute at or before `end` and at or after `start`.
    func lastMatch(atOrBefore end: Int, notBefore start: Int) -> Int? {
        let firstDay = Self.floorDivide(start, Self.minutesPerDay)
        var day = Self.floorDivide(end, Self.minutesPerDay)
        var toMinute = end - day * Self.minutesPerDay
        while day >= firstDay {
            let date = CivilDate(dayNumber: day)
            if !month.contains(date.month) {
                day -= date.day
                toMinute = Self.minutesPerDay - 1
                continue
            }
            if matchesDay(month: date.month, day: date.day, weekday: CivilDate.weekday(dayNumber: day)),
                let time = lastTime(atMost: toMinute)
            {
                let match = day * Self.minutesPerDay + time
                return match >= start ? match : nil
            }
            day -= 1
            toMinute = Self.minutesPerDay - 1
        }
        return nil
    }

    /// The first matching minute of the day (0-1439) at or after `start`.
    private func firstTime(atOrAfter start: Int) -> Int? {
        let startHour = start / 60
        var candidate = hour.first(atLeast: startHour)
        while let hour = candidate {
            if let minute = minute.first(atLeast: hour == startHour ? start % 60 : 0) {
                return hour * 60 + minute
            }
            candidate = self.hour.first(atLeast: hour + 1)
        }
        return nil
    }

    /// The last matching minute of the day (0-1439) at or before `end`.
    private func lastTime(atMost end: Int) -> Int? {
        let endHour = end / 60
        var candidate = hour.last(atMost: endHour)
        while let hour = candidate {
            if let minute = minute.last(atMost: hour == endHour ? end % 60 : 59) {
                return hour * 60 + minute
            }
            candidate = self.hour.last(atMost: hour - 1)
        }
        return nil
    }

    /// Division rounding toward negative infinity, for times before 1970.
    static func floorDivide(_ value: Int, _ divisor: Int) -> Int {
        let quotient = value / divisor
        return value % divisor < 0 ? quotient - 1 : quotient
    }
}
