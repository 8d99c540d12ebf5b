/// A value that a key refuses; the reason is shown after the key.
struct InvalidValue: Error {
    /// Why, with the value.
    var reason: String

    init(_ reason: String) {
        self.reason = reason
    }
}
