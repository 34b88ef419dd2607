import BeaconCore

/// Builds command-line values from fuzz bytes out of the pieces the parsers' grammar is made
/// of, so that most inputs reach the numeric and range logic instead of failing on the first
/// character: digit runs, points, units, commas, blanks, signs, exponents, `inf` and `nan`,
/// names and near-names, and numbers at the edges of every limit the parsers use.
enum CommandLineFuzzText {
    /// Pieces per value; longer values only repeat what shorter ones reach.
    static let maximumPieces = 48

    static let units = ["ms", "s", "m", "h"]

    /// Text the grammar does not allow but a user (or a lenient parser) might: other units,
    /// other spellings of numbers, Unicode look-alikes (full-width `ｍｓ`, Arabic-Indic digits,
    /// a combining accent that glues onto the preceding comma or unit).
    static let strays = [
        "-", "+", "e", "E", "e+", "e-", "inf", "nan", "Infinity", "0x", "_", "us", "µs", "min", "sec", "hr", "S", "H",
        "MS", " ", "\t", "\n", ";", ":", "..", "\u{301}", "ｍｓ", "٣", "\u{0}", "K",
    ]

    /// Numbers at the edges of the parsers' limits, and of the integer types under them.
    static let edges: [String] = {
        var edges = [
            "0", "1", "9223372036854775807", "9223372036854775808", "18446744073709551615", "18446744073709551616",
            "99999999999999999999999999999999999999999", "000000000000000000000000000001", "0.000001", "0.0000001",
            "1.5", "1.500001", "1.4999999", "0.001", "0.0005",
        ]
        for unit in DurationParser.units {
            let limit = DurationParser.maximumMilliseconds / unit.milliseconds
            edges += ["\(limit - 1)", "\(limit)", "\(limit + 1)"]
            // Fractions of the largest whole count: exact for some units, past the limit for others.
            edges += ["\(limit).5", "\(limit).001", "\(limit - 1).999"]
        }
        for range in CommandLineFuzzHarness.integerRanges {
            edges += [range.lowerBound, range.upperBound].flatMap { ["\($0 &- 1)", "\($0)", "\($0 &+ 1)"] }
        }
        return edges
    }()

    /// Reads pieces until the input or the piece budget runs out.
    static func build(_ reader: inout FuzzByteReader) -> String {
        var text = ""
        var pieces = 0
        while pieces < maximumPieces, let choice = reader.next() {
            pieces += 1
            switch choice % 8 {
            case 0, 1:
                // A run of up to 24 digits.
                let count = 1 + reader.byte() % 24
                for _ in 0..<count {
                    text.append(Character(Unicode.Scalar(UInt8(ascii: "0") + UInt8(reader.byte() % 10))))
                }
            case 2: text += "."
            case 3: text += units[reader.byte() % units.count]
            case 4: text += ","
            case 5: text += strays[reader.byte() % strays.count]
            case 6: text += edges[reader.byte() % edges.count]
            default:
                let names = CommandLineFuzzHarness.knownNames
                let name = names[reader.byte() % names.count]
                // A name, or a near miss: a prefix, an upper-cased one, one with a blank inside.
                switch reader.byte() % 4 {
                case 0: text += String(name.dropLast())
                case 1: text += name.uppercased()
                case 2: text += name.prefix(2) + " " + name.dropFirst(2)
                default: text += name
                }
            }
        }
        return text
    }
}
