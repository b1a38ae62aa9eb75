/// RFC 5435/5436: `notify` with the `mailto` method, `valid_notify_method` and
/// `notify_method_capability`.
extension SieveExecution {
    /// The parsed `mailto` URI of `uri`, or the runtime error Pigeonhole gives for it.
    private func mailtoURI(_ uri: String, at location: SieveSourceLocation) throws(SieveRuntimeError)
        -> SieveMailtoURI
    {
        guard let (scheme, body) = SieveMailtoURI.scheme(of: uri) else {
            throw SieveRuntimeError(
                at: location, "invalid scheme part for method URI '\(SieveText.sanitized(uri, maxOctets: 80))'")
        }
        guard scheme.lowercased() == "mailto" else {
            throw SieveRuntimeError(at: location, "invalid notify method '\(scheme)'")
        }
        do throws(SieveMailtoURI.Problem) {
            let (parsed, warnings) = try SieveMailtoURI.parse(body)
            for warning in warnings { warn(location, "notify_action: mailto URI: \(warning)") }
            return parsed
        } catch {
            throw SieveRuntimeError(at: location, "notify_action: mailto URI: \(error.message)")
        }
    }

    /// `notify`: validates its operands, leaves out recipients earlier notifications already
    /// have, and composes the notification (RFC 5436 section 2.7).
    func performNotify(_ arguments: SieveParsedArguments, at location: SieveSourceLocation) throws(SieveRuntimeError) {
        let method = try expand(arguments.positionalString(0) ?? "", at: location)
        var uri = try mailtoURI(method, at: location)
        var from: String?
        if let given = arguments.string("from") {
            let expanded = try expand(given, at: location)
            if let problem = SieveValidator.addressProblem(expanded) {
                throw SieveRuntimeError(
                    at: location,
                    "notify_action: specified :from address '\(SieveText.sanitized(expanded, maxOctets: 128))' is invalid for the mailto method: \(problem)"
                )
            }
            from = expanded
        }
        let message = try arguments.string("message").map { (text) throws(SieveRuntimeError) in
            try expand(text, at: location)
        }
        for option in try expand(arguments.strings("options") ?? [], at: location) {
            if let problem = SieveNotifyOption.problem(option, nameOnly: false) {
                throw SieveRuntimeError(at: location, "notify_action: \(problem)")
            }
        }
        var importance = 2
        if let text = arguments.string("importance"), let value = Int(text) { importance = min(3, max(1, value)) }
        guard let recipients = state.builder.newNotifyRecipients(uri.recipients) else { return }
        uri.recipients = recipients
        let request = SieveNotifyRequest(method: method, importance: importance, from: from, message: message, uri: uri)
        let composer = SieveNotifyComposer(
            hostname: settings.hostname, postmasterAddress: settings.postmasterAddress ?? "postmaster@\(settings.hostname)",
            userEmail: settings.userEmail)
        let notification = composer.notification(
            for: request, headerFields: state.headers.original,
            envelope: envelope, now: environment.now)
        try record(at: location) { (builder: inout SieveResultBuilder) throws(SieveResultConflict) in
            try builder.notify(notification)
        }
    }

    /// `valid_notify_method`: true when every URI names a supported method and is valid for it.
    func evaluateValidNotifyMethod(_ arguments: SieveParsedArguments, at location: SieveSourceLocation)
        throws(SieveRuntimeError) -> Bool
    {
        for uri in try expand(arguments.positionalStrings(0) ?? [], at: location) {
            guard let (scheme, body) = SieveMailtoURI.scheme(of: uri), scheme.lowercased() == "mailto",
                (try? SieveMailtoURI.parse(body)) != nil
            else { return false }
        }
        return true
    }

    /// `notify_method_capability`: for `mailto`, the "online" capability is "maybe" (RFC 5436
    /// section 2.2); other capabilities have no value. An invalid URI or an unsupported method
    /// makes the test false without an error (RFC 5435 section 5; Pigeonhole raises an error).
    func evaluateNotifyMethodCapability(_ arguments: SieveParsedArguments, at location: SieveSourceLocation)
        throws(SieveRuntimeError) -> Bool
    {
        let uri = try expand(arguments.positionalString(0) ?? "", at: location)
        let capability = try expand(arguments.positionalString(1) ?? "", at: location)
        guard let (scheme, body) = SieveMailtoURI.scheme(of: uri), scheme.lowercased() == "mailto",
            (try? SieveMailtoURI.parse(body)) != nil, capability.lowercased() == "online"
        else { return false }
        return try match(["maybe"], arguments, keyIndex: 2, at: location)
    }
}
