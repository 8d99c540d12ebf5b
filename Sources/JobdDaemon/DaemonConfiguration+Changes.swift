extension DaemonConfiguration {
    /// The keys whose values differ from `other`, in table order.
    func changes(to other: DaemonConfiguration) -> [ConfigurationChange] {
        ConfigurationKey.all.compactMap { key in
            let old = key.render(self)
            let new = key.render(other)
            return old == new ? nil : ConfigurationChange(key: key.name, old: old, new: new, isLive: key.isLive)
        }
    }
}
