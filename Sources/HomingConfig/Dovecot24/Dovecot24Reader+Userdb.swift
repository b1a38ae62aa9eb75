/// `userdb NAME { }` blocks of a Dovecot 2.4 file.
extension Dovecot24Reader {
    // MARK: - userdb

    /// A `userdb NAME { }` block, or with `kind` `passdb` a `passdb NAME { }` block (the same
    /// settings with the `passdb_` prefix, plus `deny` and `master`; its `fields { }` are the
    /// passdb fields).
    mutating func userdb(_ node: Dovecot24Node, section: [String], kind: String = "userdb") {
        guard let name = node.name, !name.isEmpty else {
            diagnostics.error("\(kind) { } needs a name in Dovecot 2.4 (\(kind) users { driver = passwd-file ... }); "
                              + "the name is also the driver when there is no driver setting", at: node.location)
            return
        }
        var block = RawConfiguration.Userdb(name: name, location: node.location)
        let driverNode = node.children.last { !$0.isSection && ($0.key == "driver" || $0.key == "\(kind)_driver") }
        let driver = driverNode?.value ?? name
        block.assignments.append(RawConfiguration.Assignment(key: "driver", value: driver, location: driverNode?.location ?? node.location))
        let prefixes = ["\(kind)_\(driver.replacingDashes())_", "\(kind)_", "\(driver.replacingDashes())_"]
        var staticFields: [String] = []
        var defaults: [String] = []
        var overrides: [String] = []
        var allowAllUsers = false
        var passwdFilePath: String?
        for child in node.children {
            record(child, section: section)
            if child.isSection {
                let key = Self.unprefixed(child.key, prefixes)
                switch key {
                case "fields", "iterate_fields":
                    for field in child.children where !field.isSection {
                        record(field, section: section + [child.title])
                        let value = field.value ?? ""
                        checkTemplate(value, key: "\(child.key) \(field.key)", context: .userdb, at: field.location)
                        if driver == "sql" || driver == "ldap" {
                            block.driverSettings.append(ExtConfigEntry(key: "\(key)/\(field.key)", value: value, location: field.location))
                            continue
                        }
                        guard key == "fields" else {
                            warnOnce("\(kind) iterate_fields", "\(kind) \(driver) { iterate_fields } is not used by Homing (ignored)",
                                     at: child.location)
                            continue
                        }
                        if MailStorage24.hasBlankOutsideVariables(value) {
                            diagnostics.error("fields { \(field.key) }: Homing cannot keep a space in a \(kind) field value of the "
                                              + "\(driver) driver", at: field.location)
                            continue
                        }
                        if driver == "static" {
                            staticFields.append("\(field.key)=\(value)")
                        } else if field.key.hasSuffix(":default") {
                            defaults.append("\(field.key.dropLast(":default".count))=\(value)")
                        } else {
                            overrides.append("\(field.key)=\(value)")
                        }
                    }
                case _ where driver == "sql" && (key == "pgsql" || key == "postgresql"):
                    block.driverSettings += pgsqlEntries(child, section: section + [child.title])
                default:
                    warnOnce("\(kind) \(child.key)", "\(child.key) { } inside \(kind) { } is not used by Homing (ignored)",
                             at: child.location)
                }
                continue
            }
            let value = child.value ?? ""
            if let removed = Dovecot24Names.removedInUserdb[child.key] {
                diagnostics.error("\(kind) { \(child.key) } is Dovecot 2.3 syntax, which a 2.4 file cannot use: \(removed)",
                                  at: child.location)
                continue
            }
            if child.key == "sql_driver" || child.key.hasPrefix("ldap_") || child.key.hasPrefix("pgsql_") {
                block.driverSettings.append(ExtConfigEntry(key: child.key, value: value, location: child.location))
                if child.key == "ldap_base" { checkTemplate(value, key: child.key, context: .userdb, at: child.location) }
                continue
            }
            let key = Self.unprefixed(child.key, prefixes)
            switch key {
            case "driver":
                continue
            case "skip", "result_success", "result_failure", "result_internalfail":
                block.assignments.append(assignment(child, key: key))
            case "deny" where kind == "passdb", "master" where kind == "passdb":
                block.assignments.append(assignment(child, key: key))
            case "password" where kind == "passdb" && driver == "static":
                continue
            case "path" where driver == "passwd-file":
                passwdFilePath = value
                checkTemplate(value, key: child.key, context: .userdb, at: child.location)
            case "allow_all_users" where driver == "static":
                allowAllUsers = value.lowercased() == "yes"
            case "query", "iterate_query", "filter", "iterate_filter":
                block.driverSettings.append(ExtConfigEntry(key: key, value: value, location: child.location))
                checkTemplate(value, key: child.key, context: .userdb, at: child.location)
            default:
                warnOnce("\(kind) \(child.key)", "\(kind) { \(child.key) } is not used by Homing (ignored)", at: child.location)
            }
        }
        switch driver {
        case "passwd-file":
            if let passwdFilePath {
                block.assignments.append(RawConfiguration.Assignment(key: "args", value: passwdFilePath, location: node.location))
            } else {
                diagnostics.error("\(kind) \(name) { } needs passwd_file_path = PATH", at: node.location)
            }
        case "static":
            if allowAllUsers { staticFields.append("allow_all_users=yes") }
            block.assignments.append(RawConfiguration.Assignment(key: "args", value: staticFields.joined(separator: " "),
                                                                 location: node.location))
        default:
            break
        }
        if !defaults.isEmpty {
            block.assignments.append(RawConfiguration.Assignment(key: "default_fields", value: defaults.joined(separator: " "),
                                                                 location: node.location))
        }
        if !overrides.isEmpty {
            block.assignments.append(RawConfiguration.Assignment(key: "override_fields", value: overrides.joined(separator: " "),
                                                                 location: node.location))
        }
        if kind == "passdb" { raw.passdbs.append(block) } else { raw.userdbs.append(block) }
    }
}

extension String {
    fileprivate func replacingDashes() -> String {
        String(map { $0 == "-" ? "_" : $0 })
    }
}
