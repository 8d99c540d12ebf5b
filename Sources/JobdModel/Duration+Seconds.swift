extension Duration {
    /// This duration as a number of seconds, fractions included: the form durations take
    /// on the wire (JSON numbers) and in SQL.
    ///
    /// The one conversion every target uses, instead of a copy of it in each.
    public var secondsValue: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
