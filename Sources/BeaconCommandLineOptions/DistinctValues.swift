package import ArgumentParser

/// Refuses a list that names one value twice (`--members 10,10`): a run would measure it twice
/// and draw it as two points on top of each other. Returns `values` as they are.
package func distinctValues<Value: Hashable & CustomStringConvertible>(
    _ values: [Value], option: String
) throws(ValidationError) -> [Value] {
    var seen = Set<Value>()
    for value in values where !seen.insert(value).inserted {
        throw ValidationError("\(option): \(value) is listed twice; give each value once")
    }
    return values
}
