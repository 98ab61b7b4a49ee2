import Foundation
import Logging
import PostgresNIO
import RamkollHistory
import RamkollModel

/// The warehouse in PostgreSQL through postgres-nio: one connection, the same tables and loads
/// as the SQLite file (`Warehouse`). The pipeline names the connection (`warehouse: {postgres:
/// {env: VAR}}` or `{url: …}`), as `postgres://user:password@host:port/database`; the password is
/// never logged.
public final class PostgresTarget: WarehouseTarget, @unchecked Sendable {
    public let name: String
    let connection: PostgresConnection
    let logger: Logger

    /// `schema`: work in that schema (made when missing) instead of the user's default.
    public init(url: String, schema: String? = nil, logger: Logger) throws {
        guard let c = URLComponents(string: url), ["postgres", "postgresql"].contains(c.scheme ?? ""), let host = c.host, let user = c.user
        else {
            throw RamkollError(.config, "the PostgreSQL connection is not a URL of the form postgres://user:password@host:port/database")
        }
        let database = c.path.hasPrefix("/") ? String(c.path.dropFirst()) : c.path
        name = "PostgreSQL \(user)@\(host):\(c.port ?? 5432)/\(database)"
        self.logger = logger
        let config = PostgresConnection.Configuration(
            host: host, port: c.port ?? 5432, username: user, password: c.password, database: database.isEmpty ? nil : database, tls: .disable)
        let log = logger
        do {
            connection = try blocking { try await PostgresConnection.connect(configuration: config, id: 1, logger: log) }
        } catch {
            // Refused credentials (SQLSTATE class 28) are the configuration's to fix (78); a server
            // that cannot be reached is a failure of this load (1: `ramkoll load` loads it again).
            // Neither is "an earlier stage's output is missing" (66).
            let state = (error as? PSQLError)?.serverInfo?[.sqlState] ?? ""
            if state.hasPrefix("28") {
                throw RamkollError(
                    .config,
                    "\(name) refused the credentials: \(PostgresTarget.describe(error)) — check the user and password of the warehouse's PostgreSQL URL"
                )
            }
            throw RamkollError(.internalFailure, "cannot connect to \(name): \(PostgresTarget.describe(error))")
        }
        if let schema {
            guard schema.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                throw RamkollError(.config, "schema \"\(schema)\": letters, digits and _ only")
            }
            try execute("CREATE SCHEMA IF NOT EXISTS \(schema)", [])
            try execute("SET search_path TO \(schema)", [])
        }
    }

    deinit {
        let c = connection
        try? blocking { try await c.close() }
    }

    /// The server's message, or the error's code — never the query's bound values (they are data).
    static func describe(_ error: any Error) -> String {
        if let e = error as? PSQLError {
            if let message = e.serverInfo?[.message] { return "\(message) (SQLSTATE \(e.serverInfo?[.sqlState] ?? "?"))" }
            return "\(e.code)"
        }
        return "\(error)"
    }

    /// `?` placeholders → `$1…$n` (the warehouse's statements hold no `?` in literals).
    static func numbered(_ sql: String) -> String {
        var out = "", n = 0
        for ch in sql {
            if ch == "?" { n += 1; out += "$\(n)" } else { out.append(ch) }
        }
        return out
    }

    static func query(_ sql: String, _ args: [SQLValue]) -> PostgresQuery {
        var binds = PostgresBindings(capacity: args.count)
        for a in args {
            switch a {
            case .text(let s): binds.append(s)
            case .utf8(let b): binds.append(String(decoding: b, as: UTF8.self))
            case .int(let i): binds.append(i)
            case .double(let d): binds.append(d)
            case .null: binds.appendNull()
            }
        }
        return PostgresQuery(unsafeSQL: numbered(sql), binds: binds)
    }

    func execute(_ sql: String, _ args: [SQLValue]) throws {
        let c = connection, log = logger, q = PostgresTarget.query(sql, args)
        do {
            try blocking { _ = try await c.query(q, logger: log).collect() }
        } catch {
            throw RamkollError(.internalFailure, "\(name): \(PostgresTarget.describe(error)) in \(sql.prefix(100))…")
        }
    }

    public func transaction(_ body: ((String, [SQLValue]) throws -> Void) throws -> Void) throws {
        try execute("BEGIN", [])
        do {
            try body { sql, args in try self.execute(sql, args) }
            try execute("COMMIT", [])
        } catch {
            try? execute("ROLLBACK", [])
            throw error
        }
    }

    public func integer(_ sql: String, _ args: [SQLValue]) throws -> Int64? {
        let c = connection, log = logger, q = PostgresTarget.query(sql, args)
        return try blocking {
            for try await row in try await c.query(q, logger: log) {
                // SUM of a BIGINT is NUMERIC in PostgreSQL: read it exactly as a decimal.
                if let v = try? row.decode(Int64?.self) { return v }
                guard let d = try row.decode(Decimal?.self) else { return nil }
                guard d == d.rounded(0), let v = Int64(exactly: NSDecimalNumber(decimal: d).int64Value), Decimal(v) == d else {
                    throw RamkollError(.internalFailure, "\(d) is not a 64-bit integer")
                }
                return v
            }
            return nil
        }
    }

    public func columns(of table: String) throws -> [String] {
        let c = connection, log = logger
        let q = PostgresTarget.query(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
            [.text(table)])
        return try blocking {
            var names: [String] = []
            for try await row in try await c.query(q, logger: log) { names.append(try row.decode(String.self)) }
            return names
        }
    }

    public func forEachIntegers(_ sql: String, _ args: [SQLValue], _ body: (Int64, Int64, Int64) throws -> Void) throws {
        let c = connection, log = logger, q = PostgresTarget.query(sql, args)
        let rows = try blocking {
            var out: [(Int64, Int64, Int64)] = []
            for try await row in try await c.query(q, logger: log) { out.append(try row.decode((Int64, Int64, Int64).self)) }
            return out
        }
        for (a, b, c) in rows { try body(a, b, c) }
    }

    public var integerPrimaryKey: String { "BIGINT PRIMARY KEY" }

    /// PostgreSQL's autovacuum gives deleted rows' space back by itself.
    public func compact() throws {}

    /// Rows of a query as text (for tests and `ramkoll load` reports).
    public func strings(_ sql: String, _ args: [SQLValue] = []) throws -> [String] {
        let c = connection, log = logger, q = PostgresTarget.query(sql, args)
        return try blocking {
            var out: [String] = []
            for try await row in try await c.query(q, logger: log) { out.append(try row.decode(String.self)) }
            return out
        }
    }
}

/// Runs async work from synchronous code (the command line and the warehouse are synchronous).
final class ResultBox<T>: @unchecked Sendable { var value: Result<T, any Error>? }

func blocking<T>(_ op: @escaping @Sendable () async throws -> T) throws -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        do { box.value = .success(try await op()) } catch { box.value = .failure(error) }
        done.signal()
    }
    done.wait()
    return try box.value!.get()
}

extension Decimal {
    fileprivate func rounded(_ scale: Int) -> Decimal {
        var value = self, result = Decimal()
        NSDecimalRound(&result, &value, scale, .plain)
        return result
    }
}
