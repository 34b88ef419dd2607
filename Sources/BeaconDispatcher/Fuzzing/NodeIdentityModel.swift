/// The rule ``NodeIdentity`` must follow, stated as plainly as possible for the request fuzzer:
/// one claim, not empty, and, when the call carries a certificate, a common name with exactly the
/// claim's bytes; a certificate is required only when asked for.
enum NodeIdentityModel {
    /// The claim the call is accepted as, or why it is refused.
    static func expected(
        claimed: [String], certificateNames: [String]?, requiresCertificate: Bool
    ) -> Result<String, NodeIdentityError> {
        guard claimed.count == 1 else { return .failure(claimed.isEmpty ? .noClaim : .severalClaims) }
        let claim = claimed[0]
        guard !claim.utf8.isEmpty else {
            return .failure(.invalidClaim(.invalidArgument("a node id must not be empty")))
        }
        switch certificateNames {
        case nil where requiresCertificate:
            return .failure(.certificateMissing)
        case let names? where !names.contains(where: { Array($0.utf8) == Array(claim.utf8) }):
            return .failure(.certificateNamesOtherNode(names: names, claimed: claim))
        default:
            return .success(claim)
        }
    }

    /// Checks ``NodeIdentity/resolve(claimed:certificateNames:requiresCertificate:)`` on one call;
    /// nil when it agrees with the rule.
    static func check(claimed: [String], certificateNames: [String]?, requiresCertificate: Bool) -> String? {
        let expected = expected(
            claimed: claimed, certificateNames: certificateNames, requiresCertificate: requiresCertificate)
        var call: String {
            "claims \(claimed.map { String(reflecting: $0) }), certificate \(certificateNames.map { "\($0.map { String(reflecting: $0) })" } ?? "none"), required \(requiresCertificate)"
        }
        do {
            let node = try NodeIdentity.resolve(
                claimed: claimed, certificateNames: certificateNames, requiresCertificate: requiresCertificate)
            guard case .success(let claim) = expected else {
                return "\(call): accepted as \(String(reflecting: node.rawValue)), expected \(expected)"
            }
            guard Array(node.rawValue.utf8) == Array(claim.utf8), let named = try? NodeID(claim), node == named else {
                return "\(call): accepted as \(String(reflecting: node.rawValue)), not the claim"
            }
        } catch {
            guard case .failure(error) = expected else { return "\(call): refused with \(error), expected \(expected)" }
        }
        return nil
    }
}
