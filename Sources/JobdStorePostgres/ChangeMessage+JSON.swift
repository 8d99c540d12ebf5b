import JobdModel

/// The change feed's JSON, written by hand: a `JSONEncoder` per entry, and decoding every
/// notification to find out that it was this node's own, were the two largest costs of a
/// dispatcher round on PostgreSQL (a profile of W1, docs/benchmarks.md). The other side
/// reads it by hand too (`ChangeMessage+Parse.swift`).
extension ChangeMessage {
    /// `{"o":"ORIGIN","c":[`: how every payload of `origin` begins, so a node can skip its
    /// own without decoding them.
    static func head(origin: String) -> String {
        #"{"o":"# + JSONText.string(origin) + #","c":["#
    }
}

extension ChangeMessage.Entry {
    /// The entry as one JSON object, absent fields left out.
    var json: String {
        var out = #"{"t":"# + JSONText.string(t)
        if let u { out += #","u":\#(u)"# }
        if let r {
            out +=
                #","r":["# + r.map { "[" + $0.map(String.init).joined(separator: ",") + "]" }.joined(separator: ",")
                + "]"
        }
        if let j { out += #","j":\#(j)"# }
        if let a { out += #","a":\#(a)"# }
        if let s { out += #","s":"# + JSONText.string(s) }
        if let ec { out += #","ec":"# + JSONText.string(ec) }
        if let em { out += #","em":"# + JSONText.string(em) }
        if let eh { out += #","eh":\#(eh)"# }
        if let ra, ra.isFinite { out += #","ra":\#(ra)"# }
        if let p { out += #","p":\#(p)"# }
        if let b { out += #","b":\#(b)"# }
        if let ps { out += #","ps":"# + JSONText.string(ps) }
        return out + "}"
    }
}
