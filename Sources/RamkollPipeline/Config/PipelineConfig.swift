import Foundation
import RamkollModel
import RamkollReaders
import Yams

/// A pipeline file, resolved: every path absolute, every profile loaded, every setting typed.
/// See README "Writing a pipeline file" for the format.
public struct PipelineConfig: Sendable {
    public enum ForecastMethod: String, Sendable, CaseIterable {
        case runRate = "run-rate"
        case ytdPlusBudget = "ytd-plus-budget"
        /// Utfall YTD scaled by the previous year's monthly profile (its full year / its same months).
        case seasonal
    }
    /// Methods for one report line that use the case system, in `line_methods`.
    public enum LineMethod: String, Sendable, CaseIterable {
        /// Purchased placements: the case system's delivered cost to date, each active placement's
        /// price × its remaining days to its end or the year end, and expected new placements.
        case activityBased = "activity-based"
        /// Ekonomiskt bistånd: households × amount per household for the remaining months.
        case driverBased = "driver-based"
    }
    public enum KeySource: Sendable, Equatable {
        case file(String)
        case environment(String)
    }
    public struct Source: Sendable {
        public var id: String
        public var path: String
        /// The path as outputs and messages show it: as ingest's inputs.csv does (`display`,
        /// relative to the pipeline file's directory), so a row's `file` joins inputs.csv's `path`
        /// and no machine-specific prefix is written even where the pipeline gives an absolute path.
        public var displayPath: String
        public var profile: SourceProfile
        public var profilePath: String
        /// Sources of one ledger must not cover the same periods (they would be counted twice);
        /// sources of different ledgers (a sub-ledger, say) may.
        public var ledger: String = "main"
        /// Candidate profiles (the pipeline may list several); the inbox identifies files by them.
        public var candidates: [(path: String, profile: SourceProfile)] = []
        /// A file-name pattern (`*`, `?`): files dropped in the inbox that fit it and the profile
        /// feed this source (the inbox installs the newest at `path`).
        public var inboxPattern: String?
        /// The period of every row, for an export without dates (`period: 2022-03`).
        public var period: Period?
        /// A placement extract of the previous year (`previous_year: true`): its placements give the
        /// volume tables' previous-year care days and persons, and nothing else.
        public var previousYear = false
    }

    /// The inbox the nightly job picks new exports up from (`ramkoll inbox`).
    public var inbox: InboxSettings?
    public struct InboxSettings: Sendable {
        public var directory: String
        public var archive: String
        public var rejected: String
    }
    public struct BudgetSource: Sendable {
        public var path: String
        public var displayPath: String
        /// nil: the budget-frame CSV (unit × report line); an SIE profile: the file's #PBUDGET.
        public var profile: SIEProfile?
        public var profilePath: String?
        /// Budget version: `original`, `tilläggsanslag` or `omdisponering`, with the
        /// date it was decided (a version counts from that date's month on) and a note.
        public var version: String = "original"
        public var decided: Day?
        public var note: String = ""
    }

    /// The budget versions in force at the as-of period, as reports name them.
    public var budgetVersionsText: String {
        budgets.filter { $0.decided.map { $0.period <= asOf } ?? true }
            .map { b in b.version + (b.decided.map { " \($0)" } ?? "") + (b.note.isEmpty ? "" : " (\(b.note))") }
            .reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
            .joined(separator: "; ")
    }

    /// Every profile file the pipeline uses (sources and budgets), sorted.
    public var profilePaths: [String] {
        Set(sources.map(\.profilePath) + budgets.compactMap(\.profilePath)).sorted()
    }
    public struct Mappings: Sendable {
        public var reportLines: String
        public var accounts: [String]
        public var units: String
        public var ansvar: String
        public var all: [String] { (reportLines.isEmpty ? [] : [reportLines]) + accounts + [units, ansvar] }
    }

    /// The keys of a pipeline file (`ramkoll init` writes each of them, most commented out).
    public static let sections = [
        "name", "fiscal_year", "as_of", "settings", "pseudonym_key", "mappings", "sources", "budget", "case_reconciliation", "ivo",
        "assistance", "volume_tables", "manual_forecasts", "forecast_history", "committee_tables", "warehouse", "inbox",
        "investments", "key_figures",
    ]
    /// Whether the pipeline reads a ledger or a budget: without, it makes no table by report line.
    public var readsMoney: Bool { !mappings.reportLines.isEmpty }

    public var name: String
    public var file: String
    public var baseDirectory: String
    /// The pipeline file's directory as the user named it (e.g. `Pipelines`), so that messages
    /// name files the user can open from where they ran the command. Outputs never use it.
    public var diagnosticsBase: String = ""
    public var fiscalYear: Int
    public var asOf: Period
    public var careDays: CareDayConvention
    public var forecastMethod: ForecastMethod
    /// Report line → a case-system method used for that line instead of `forecastMethod`.
    public var lineMethods: [String: LineMethod] = [:]
    public var deviationThreshold: Ore
    /// In basis points (5 % = 500).
    public var deviationThresholdPercent: Int64
    /// Rejected rows above this share (basis points of rows read) make the run end with a data error.
    /// Budget rows are not counted here: they have their own limit.
    public var rejectLimit: Int64
    /// Rejected or unmapped budget rows above this share (basis points of budget rows read) are a
    /// data error; by default (0) any budget amount lost is one — a budget line that vanishes moves
    /// the frame, however few rows it is.
    public var budgetRejectLimit: Int64 = 0
    /// The unit that account-level budget rows without an ansvar go to (an SIE budget read without
    /// an object slice); nil: such rows are unmapped, and so a data error.
    public var budgetDefaultUnit: String?
    /// The budget's Årets resultat for the fiscal year (report sign; 0 for a nämnd whose
    /// kommunbidrag covers its net costs). A budget whose result differs is a data error.
    public var budgetResult: Ore = .zero
    /// `settings.closed_months: locked`: a month before the as-of month whose ledger totals changed
    /// or vanished since the period's previous good run is a data error (default: a warning).
    public var closedMonthsLocked = false
    public var pseudonymKey: KeySource?
    public var mappings: Mappings
    public var sources: [Source]
    public var budgets: [BudgetSource]
    /// Ledger ↔ case system: which accounts carry purchased placements, and the tolerance in öre
    /// under which a unit-month counts as matched. nil: not configured.
    public var caseReconciliation: CaseReconciliationSettings?

    /// Ekonomiskt bistånd: the report line its budget is on, and the ledger accounts it is paid from.
    public var assistance: AssistanceSettings?
    public struct AssistanceSettings: Sendable, Equatable {
        public var budgetLine: String
        public var accounts: [String]
    }

    /// Report lines whose forecast is shown with a range (the lowest and highest method), e.g. placements.
    public var volatileLines: [String] = []
    /// The checkpoints' names by month ("04": "Fördjupad månadsuppföljning"): each checkpoint's
    /// forecast is read from that period's newest good sealed run. nil: no history is shown.
    public var forecastHistory: ForecastHistorySettings?
    public struct ForecastHistorySettings: Sendable, Equatable {
        public var checkpointNames: [Int: String]
    }

    /// A controllers' file of manual forecasts (unit, line, amount, comment, author) that override
    /// the computed figure.
    public var manualForecasts: String?

    /// Key figures (nyckeltal) beyond budgetföljsamhet, which needs no settings.
    public var keyFigures = KeyFigureSettings()
    public struct KeyFigureSettings: Sendable, Equatable {
        /// The committee's target of households with paid aid per month.
        public var householdsTarget: Int64?
        /// Units whose net cost is open care (öppenvård).
        public var openCareUnits: [String] = []
        /// Forms of care that are consultant-supported and fee-based family homes.
        public var familyHomes: FamilyHomes?
        public struct FamilyHomes: Sendable, Equatable {
            public var consultant: [String], feeBased: [String]
        }
    }

    /// Investments: the rows of the investment tables (categories and their sub-rows), which
    /// accounts are investments and the row each maps to, and the investment budget.
    public var investments: InvestmentSettings?
    public struct InvestmentSettings: Sendable, Equatable {
        /// `id;name;category;kind` — a category row (empty category) or a sub-row of one; kind
        /// `utgift` (default) or `inkomst`.
        public var lines: String
        /// `from;to;line` — account ranges → an investment row (a row without sub-rows), or `-`
        /// for an account in scope that holds no investment (accumulated depreciation).
        public var accounts: String
        /// Account prefixes that hold investments: every amount on them is mapped, excluded by `-`
        /// or listed as an exception.
        public var scope: [String]
        /// `rad;projekt;belopp;plan ÅÅÅÅ…` — the investment budget (kronor, expenditure positive).
        public var budget: String?
        /// The mapping files, fingerprinted with the others.
        public var files: [String] { [lines, accounts] }
    }

    /// Volume tables (a budget document's placement tables): care days, budget and net cost for groups of units.
    public var volumeTables: [VolumeTable] = []
    public struct VolumeTable: Sendable, Equatable {
        public var name: String
        public var units: [String]
        public var forms: [String]  // empty: every form of care
        public var budgetLine: String
        /// The volume budget: planned care days per year (the table's budget rows).
        public var plannedDays: [Int: Int64] = [:]
        /// Legal bases (prefixes of the placements' lagrum, e.g. "LVU"); empty: every one.
        public var legalBasis: [String] = []
        /// Whether the table counts the persons in care per year.
        public var persons = false
        /// Before December, whether the year-to-date row stands above the forecast (a budget
        /// document shows the forecast alone).
        public var toDateRow = true

        public func matches(unit: String, form: String, basis: String) -> Bool {
            units.contains(unit) && (forms.isEmpty || forms.contains(form)) && (legalBasis.isEmpty || legalBasis.contains { basis.hasPrefix($0) })
        }
    }

    /// The committee's unit tables (a budget document's budget per verksamhet, an activity plan's per unit, an internal budget's
    /// driftsammandrag): which units make the rows, "varav" rows under them, the residual line's
    /// name and whether net costs are printed positive.
    public var committeeTables = CommitteeTablesSettings()
    public struct CommitteeTablesSettings: Sendable, Equatable {
        /// Row units; empty: the root's children. Every unit with figures must lie under exactly one.
        public var units: [String] = []
        public var varav: [Varav] = []
        public var residualName = "Ofördelade kostnadsreduceringar"
        /// The net-cost tables (budget per verksamhet, driftsammandrag): false prints them in report
        /// sign (net costs negative), true with net costs positive as budget documents and driftsammandrag do. The
        /// Resultatbudget tables (of an activity plan) are an income statement and keep the report sign.
        public var netCostPositive = false
        /// Per committee table (by its name): how it is set out.
        public var shapes: [String: TableShape] = [:]
        /// Where the committee's kommunbidrag is shown in the tables of units below the root:
        /// `root` — on the committee alone (a unit's Drift table ends at its net cost); `units` —
        /// allocated as a frame per unit equal to the unit's budgeted net cost, so a unit's result
        /// is its deviation.
        public var kommunbidragOnUnits = false
        /// The report line of the kommunbidrag (the frame from the council).
        public var kommunbidragLine = "KB"
        /// The tables whose shape can be set.
        public static let tableNames = [
            "drift", "resultatbudget", "resultatbudget_enheter", "budget_verksamhet", "driftsammandrag", "ekonomiska_ramar", "investeringar",
            "investeringsbudget",
            "investeringar_netto", "investeringsprojekt", "genomforandegrad",
        ]
        /// The investment tables: rows are investment rows (`hide_lines` and row labels by row id,
        /// checked against the rows when the run starts).
        public static let investmentTables: Set = [
            "investeringar", "investeringsbudget", "investeringar_netto", "investeringsprojekt", "genomforandegrad",
        ]
        /// Tables whose rows are report lines or investment rows (`hide_lines` applies); the others' rows are units.
        public static let tablesByLine: Set<String> = investmentTables.union(["drift", "resultatbudget", "ekonomiska_ramar"])
        public struct TableShape: Sendable, Equatable {
            public var title: String?
            /// Column key (`budget_ore`, `forecast_ore`, …, `corner` for the first header cell,
            /// `total`, `varav_revenue`, `varav_cost` for those rows) → label; `{månad}` is the as-of
            /// month's short Swedish name, `{år}` the fiscal year, `{år-1}` and `{år+1}` the years
            /// beside it.
            public var labels: [String: String] = [:]
            /// The columns shown, in this order (keys as in `labels`); empty: all, as the table sets them.
            public var columns: [String] = []
            /// mnkr (true) or tkr (false); nil: the table's default.
            public var mnkr: Bool?
            /// Decimals of mnkr (0, 1 or 2); nil: 1.
            public var decimals: Int?
            /// Report lines left out of a table by line (Drift, Resultatbudget).
            public var hideLines: [String] = []

            /// The configured label of `key`, placeholders filled in, or `default`.
            public func label(_ key: String, _ def: String, asOf: Period, fiscalYear fy: Int) -> String {
                guard let l = labels[key] ?? (key == "plan_\(fy + 1)_ore" ? labels["budget_next_year_ore"] : nil) else { return def }
                return l.replacingOccurrences(of: "{månad}", with: Swedish.shortMonth(asOf)).replacingOccurrences(of: "{år-1}", with: String(fy - 1))
                    .replacingOccurrences(of: "{år+1}", with: String(fy + 1)).replacingOccurrences(of: "{år}", with: String(fy))
            }
            /// The positions of `keys` to show: the configured columns in their order, or all.
            public func shown(_ keys: [String]) -> [Int] {
                columns.isEmpty ? Array(keys.indices) : columns.compactMap { keys.firstIndex(of: $0) }
            }
        }
        public struct Varav: Sendable, Equatable {
            public var name: String
            public var units: [String]
            /// Report lines summed (report sign); empty: the units' net cost.
            public var lines: [String]
        }
    }

    /// A PostgreSQL warehouse the runs are loaded into besides the SQLite file: a URL, or the
    /// environment variable holding it (keeps the password out of the pipeline file).
    public var warehousePostgres: ConnectionSource?
    /// The schema the warehouse tables live in (default: the user's search path).
    public var warehouseSchema: String?
    public enum ConnectionSource: Sendable, Equatable {
        case url(String)
        case environment(String)
        /// The URL, or nil when the variable is not set.
        public func resolve() -> String? {
            switch self {
            case .url(let u): return u
            case .environment(let v): return ProcessInfo.processInfo.environment[v].flatMap { $0.isEmpty ? nil : $0 }
            }
        }
    }

    /// The IVO report of unexecuted decisions: which quarter, and the date it is reported on.
    public var ivo: IVOSettings?
    public struct IVOSettings: Sendable, Equatable {
        public var quarter: Quarter
        public var reportingDate: Day
    }

    public struct CaseReconciliationSettings: Sendable, Equatable {
        public var placementAccounts: [String]
        public var tolerance: Ore
        /// A regular expression that finds, in a placement invoice's ledger text, the placement id
        /// (named group `placement`) and the month invoiced (named group `month`, `MM` or `YYYY-MM`).
        public var invoiceReference: String?

        /// Whether an account is a placement account: it starts with one of `placementAccounts`
        /// (the one rule, for reconcile's ledger cost and for normalize's invoice references).
        public func isPlacementAccount<C: Collection>(_ account: C) -> Bool where C.Element == UInt8 {
            placementAccounts.contains { account.starts(with: $0.utf8) }
        }
    }

    /// Loads and validates a pipeline file. Returns the config (possibly with errors; callers must
    /// not run one that has any) and every diagnostic (warnings for unknown keys, errors naming
    /// file and line). The config is nil only when the file cannot be read or parsed at all.
    public static func load(path: String) -> (PipelineConfig?, [Diagnostic]) {
        let abs = URL(fileURLWithPath: path).standardizedFileURL.path
        let display = path
        let r = YAMLReader(file: display)
        guard let text = FileIO.readText(abs) else {
            r.error(nil, "pipeline file cannot be read (missing, or not UTF-8)")
            return (nil, r.diagnostics)
        }
        guard let root = r.parse(text) else { return (nil, r.diagnostics) }
        let base = URL(fileURLWithPath: abs).deletingLastPathComponent().path
        let givenDir = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : ""
        func diagName(_ rel: String) -> String { rel.hasPrefix("/") || givenDir.isEmpty ? rel : givenDir + "/" + rel }
        func resolve(_ p: String) -> String {
            p.hasPrefix("/") ? p : URL(fileURLWithPath: base).appendingPathComponent(p).standardizedFileURL.path
        }
        let top = r.mapping(root, context: "pipeline", allowed: Set(PipelineConfig.sections))
        let name = r.string(top, "name", context: "pipeline", required: true, parent: root) ?? "pipeline"
        var fiscalYear = 0
        if let fy = r.string(top, "fiscal_year", context: "pipeline", required: true, parent: root) {
            if let y = Int(fy), (1900...9999).contains(y) {
                fiscalYear = y
            } else {
                r.error(top["fiscal_year"], "pipeline: fiscal_year \"\(fy)\" is not a year (e.g. 2022)")
            }
        }
        var asOf = Period(year: max(fiscalYear, 1), month: 12)!
        if let a = r.string(top, "as_of", context: "pipeline", required: true, parent: root) {
            if let p = Period(a) {
                asOf = p
                if fiscalYear != 0 && p.year != fiscalYear {
                    r.error(top["as_of"], "pipeline: as_of \(a) is not in fiscal_year \(fiscalYear)")
                }
            } else {
                r.error(top["as_of"], "pipeline: as_of \"\(a)\" is not a period; expected YYYY-MM")
            }
        }

        let settings = r.mapping(
            top["settings"], context: "settings",
            allowed: [
                "care_days", "forecast_method", "deviation_threshold_kr", "deviation_threshold_percent", "reject_limit_percent", "volatile_lines",
                "line_methods", "budget_reject_limit_percent", "budget_default_unit", "budget_result_kr", "closed_months",
            ], unknownIsError: true)
        var careDays = CareDayConvention.inclusive
        if let c = r.string(settings, "care_days", context: "settings", required: false, parent: top["settings"]) {
            if let v = CareDayConvention(rawValue: c) {
                careDays = v
            } else {
                r.error(settings["care_days"], "settings: care_days \"\(c)\" is not known; use inclusive or exclude-discharge")
            }
        }
        var method = ForecastMethod.ytdPlusBudget
        if let m = r.string(settings, "forecast_method", context: "settings", required: false, parent: top["settings"]) {
            if let v = ForecastMethod(rawValue: m) {
                method = v
            } else {
                r.error(
                    settings["forecast_method"],
                    "settings: forecast_method \"\(m)\" is not known; use \(ForecastMethod.allCases.map(\.rawValue).dropLast().joined(separator: ", ")) or \(ForecastMethod.allCases.last!.rawValue)"
                )
            }
        }
        let amounts = AmountParser()
        var threshold = Ore(kronor: 100_000)
        if let t = r.string(settings, "deviation_threshold_kr", context: "settings", required: false, parent: top["settings"]) {
            switch amounts.parse(Array(t.utf8)) {
            case .success(let o): threshold = Ore(o.value.magnitude > 0 ? Int64(o.value.magnitude) : 0)
            case .failure(let f):
                r.error(
                    settings["deviation_threshold_kr"], "settings: deviation_threshold_kr \"\(t)\": \(f.reason); expected kronor such as \"250 000\"")
            }
        }
        func percent(_ key: String, default def: Int64) -> Int64 {
            guard let t = r.string(settings, key, context: "settings", required: false, parent: top["settings"]) else { return def }
            switch amounts.parse(Array(t.utf8)) {
            case .success(let o) where o.value >= 0: return o.value  // öre of a "percent" = basis points
            default:
                r.error(settings[key], "settings: \(key) \"\(t)\" is not a percentage; expected e.g. \"5\" or \"2,5\"")
                return def
            }
        }
        let thresholdPercent = percent("deviation_threshold_percent", default: 500)
        let rejectLimit = percent("reject_limit_percent", default: 100)
        let budgetRejectLimit = percent("budget_reject_limit_percent", default: 0)
        let budgetDefaultUnit = r.string(settings, "budget_default_unit", context: "settings", required: false, parent: top["settings"])
        var budgetResult = Ore.zero
        var closedMonthsLocked = false
        if let c = r.string(settings, "closed_months", context: "settings", required: false, parent: top["settings"]) {
            switch c {
            case "locked": closedMonthsLocked = true
            case "warn": closedMonthsLocked = false
            default: r.error(settings["closed_months"], "settings: closed_months \"\(c)\" is not known; use warn (the default) or locked")
            }
        }
        if let t = r.string(settings, "budget_result_kr", context: "settings", required: false, parent: top["settings"]) {
            switch amounts.parse(Array(t.utf8)) {
            case .success(let o): budgetResult = o
            case .failure(let f):
                r.error(
                    settings["budget_result_kr"],
                    "settings: budget_result_kr \"\(t)\": \(f.reason); expected kronor in report sign such as \"0\" or \"-2 000 000\"")
            }
        }
        let volatileLines = (settings["volatile_lines"]?.sequence.map { Array($0) } ?? []).compactMap(\.string)
        var lineMethods: [String: LineMethod] = [:]
        for (line, v) in r.mapping(settings["line_methods"], context: "settings line_methods", allowed: nil) {
            if let m = v.string.flatMap(LineMethod.init(rawValue:)) {
                lineMethods[line] = m
            } else {
                r.error(
                    v,
                    "settings: line_methods \(line): \"\(v.string ?? "")\" is not known; use \(LineMethod.allCases.map(\.rawValue).joined(separator: " or "))"
                )
            }
        }

        var key: KeySource?
        if let kn = top["pseudonym_key"] {
            let km = r.mapping(kn, context: "pseudonym_key", allowed: ["file", "env"])
            if let f = km["file"]?.string {
                key = .file(resolve(f))
            } else if let e = km["env"]?.string {
                key = .environment(e)
            } else {
                r.error(kn, "pseudonym_key: give either file: PATH or env: VARIABLE")
            }
        }

        let mm = r.mapping(top["mappings"], context: "mappings", allowed: ["report_lines", "accounts", "units", "ansvar"])
        if top["mappings"] == nil { r.error(root, "pipeline: \"mappings\" is missing") }
        // units and ansvar are always needed (every source names its unit by an ansvar code);
        // report_lines and accounts only by a pipeline with a ledger or a budget (checked below).
        func mapPath(_ k: String, required: Bool = true) -> String {
            guard let s = r.string(mm, k, context: "mappings", required: required && top["mappings"] != nil, parent: top["mappings"]) else {
                return ""
            }
            let p = resolve(s)
            if !FileIO.exists(p) { r.error(mm[k], "mappings: \(k) file \(s) does not exist") }
            return p
        }
        var accountFiles: [String] = []
        if let an = mm["accounts"] {
            let list: [Node] = an.sequence.map { Array($0) } ?? [an]
            for n in list {
                guard let s = n.string else { r.error(n, "mappings: accounts must be a path or a list of paths"); continue }
                let p = resolve(s)
                if !FileIO.exists(p) { r.error(n, "mappings: accounts file \(s) does not exist") }
                accountFiles.append(p)
            }
        }
        var mappings = Mappings(
            reportLines: mapPath("report_lines", required: false), accounts: accountFiles, units: mapPath("units"), ansvar: mapPath("ansvar"))

        var sources: [Source] = []
        var seenIDs = Set<String>()
        var profileCache: [String: SourceProfile] = [:]
        if let sn = top["sources"] {
            if let seq = sn.sequence {
                for item in seq {
                    let m = r.mapping(item, context: "source", allowed: ["id", "path", "profile", "ledger", "inbox", "period", "previous_year"])
                    guard let id = r.string(m, "id", context: "source", required: true, parent: item),
                        let p = r.string(m, "path", context: "source \(id)", required: true, parent: item)
                    else { continue }
                    if !seenIDs.insert(id).inserted { r.error(m["id"], "source id \"\(id)\" is used twice; ids must be unique") }
                    let abs = resolve(p)
                    let inboxPattern = m["inbox"]?.string
                    if !FileIO.exists(abs) {
                        if inboxPattern != nil {
                            r.warning(
                                m["path"], "source \(id): input file \(p) does not exist yet; ramkoll inbox places it when an export arrives",
                                key: "path")
                        } else {
                            r.error(m["path"], "source \(id): input file \(p) does not exist")
                        }
                    }
                    // One profile, or a list of candidates to identify the export by its header line.
                    guard let profNode = m["profile"] else { r.error(item, "source \(id): \"profile\" is missing", key: "profile"); continue }
                    let candidates: [String] = profNode.sequence.map { $0.compactMap(\.string) } ?? [profNode.string].compactMap { $0 }
                    if candidates.isEmpty { r.error(profNode, "source \(id): profile must be a path or a list of paths"); continue }
                    var loaded: [(path: String, profile: SourceProfile)] = []
                    for prof in candidates {
                        let profAbs = resolve(prof)
                        if profileCache[profAbs] == nil {
                            if !FileIO.exists(profAbs) { r.error(profNode, "source \(id): profile file \(prof) does not exist"); continue }
                            profileCache[profAbs] = ProfileLoader.load(path: profAbs, displayPath: prof, diagnosticName: diagName(prof), into: r)
                        }
                        if let pr = profileCache[profAbs] { loaded.append((profAbs, pr)) }
                    }
                    var profile: SourceProfile?
                    var profAbs = ""
                    if candidates.count == 1 || (!FileIO.exists(abs) && inboxPattern != nil) {
                        (profAbs, profile) = (loaded.first?.path ?? "", loaded.first?.profile)
                    } else if FileIO.exists(abs), loaded.count == candidates.count {
                        switch identify(file: abs, display: p, candidates: loaded) {
                        case .success(let chosen): (profAbs, profile) = chosen
                        case .failure(let why): r.error(profNode, "source \(id): \(why.reason)")
                        }
                    }
                    if let profile {
                        var src = Source(
                            id: id, path: abs, displayPath: PipelineConfig.display(abs, base: base), profile: profile, profilePath: profAbs)
                        if let l = m["ledger"]?.string { src.ledger = l }
                        src.candidates = loaded
                        src.inboxPattern = inboxPattern
                        if let pt = r.string(m, "period", context: "source \(id)", required: false, parent: item) {
                            if let period = DateLayout.isoPeriod.parse(Array(pt.utf8))?.period, pt.count == 7 {
                                src.period = period
                            } else {
                                r.error(m["period"], "source \(id): period \"\(pt)\" is not a month; expected YYYY-MM (the month the export covers)")
                            }
                        }
                        switch m["previous_year"]?.string {
                        case nil, "false", "no": break
                        case "true", "yes":
                            if profile.kind == "placements-xml" {
                                src.previousYear = true
                            } else {
                                r.error(
                                    m["previous_year"],
                                    "source \(id): previous_year applies to a placement extract (placements-xml), whose placements give last year's care days; profile \(profile.file) is \(profile.kind)"
                                )
                            }
                        case let other?: r.error(m["previous_year"], "source \(id): previous_year \"\(other)\" must be true or false")
                        }
                        switch (profile.sourcePeriod, src.period) {
                        case (.notTaken, .some):
                            r.error(
                                m["period"],
                                "source \(id): period: is for an export without dates, but profile \(profile.file) reads each row's date or period from the file; leave period: out"
                            )
                        case (.required, nil):
                            r.error(
                                item,
                                "source \(id): profile \(profile.file) has no booking_date or period column, so the source must give its period: add period: YYYY-MM (the month the export covers)",
                                key: "period")
                        default: break
                        }
                        sources.append(src)
                    }
                }
            } else {
                r.error(sn, "sources must be a list")
            }
        }

        var budgets: [BudgetSource] = []
        if let bn = top["budget"] {
            for item in bn.sequence.map({ Array($0) }) ?? [bn] {
                let m = r.mapping(item, context: "budget", allowed: ["path", "profile", "version", "date", "note"])
                guard let p = r.string(m, "path", context: "budget", required: true, parent: item) else { continue }
                let abs = resolve(p)
                if !FileIO.exists(abs) { r.error(m["path"], "budget: file \(p) does not exist") }
                var budget = BudgetSource(path: abs, displayPath: PipelineConfig.display(abs, base: base))
                if let v = r.string(m, "version", context: "budget", required: false, parent: item) {
                    if ["original", "tilläggsanslag", "omdisponering"].contains(v) {
                        budget.version = v
                    } else {
                        r.error(m["version"], "budget: version \"\(v)\" is not known; use original, tilläggsanslag or omdisponering")
                    }
                }
                if let d = r.string(m, "date", context: "budget", required: budget.version != "original", parent: item) {
                    if let day = Day(iso: d) {
                        budget.decided = day
                    } else {
                        r.error(m["date"], "budget: date \"\(d)\" is not a date; expected YYYY-MM-DD")
                    }
                }
                budget.note = r.string(m, "note", context: "budget", required: false, parent: item) ?? ""
                if let prof = r.string(m, "profile", context: "budget", required: false, parent: item) {
                    let profAbs = resolve(prof)
                    if !FileIO.exists(profAbs) {
                        r.error(m["profile"], "budget: profile file \(prof) does not exist")
                    } else {
                        let loaded =
                            profileCache[profAbs] ?? ProfileLoader.load(path: profAbs, displayPath: prof, diagnosticName: diagName(prof), into: r)
                        profileCache[profAbs] = loaded
                        switch loaded {
                        case let sp as SIEProfile: budget.profile = sp; budget.profilePath = profAbs
                        case nil: break
                        default:
                            r.error(
                                m["profile"],
                                "budget: profile \(prof) is not an SIE profile; a budget is read from an SIE file's #PBUDGET or from the budget-frame CSV (no profile)"
                            )
                        }
                    }
                }
                budgets.append(budget)
            }
        }

        // What the pipeline reads decides what it needs: the report lines and the account tables
        // serve a ledger or a budget; without either they are not read (and no table by line is made).
        if sources.isEmpty && budgets.isEmpty && top["sources"]?.sequence == nil {
            r.error(root, "pipeline: no \"sources\" and no \"budget\": give the exports to read")
        }
        let readsMoney = !budgets.isEmpty || sources.contains { $0.profile.records == .ledger }
        if readsMoney && top["mappings"] != nil {
            for (k, given) in [("report_lines", mm["report_lines"] != nil), ("accounts", mm["accounts"] != nil)] where !given {
                r.error(top["mappings"], "mappings: \"\(k)\" is missing; a pipeline with a ledger or a budget reports it by report line")
            }
        } else if !readsMoney {
            for k in ["report_lines", "accounts"] where mm[k] != nil {
                r.warning(mm[k], "mappings: \(k) is not used: the pipeline reads no ledger and no budget, so nothing is reported by line", key: k)
            }
            mappings.reportLines = ""
            mappings.accounts = []
        }

        let cfg = PipelineConfig(
            name: name, file: abs, baseDirectory: base, fiscalYear: fiscalYear, asOf: asOf,
            careDays: careDays, forecastMethod: method, deviationThreshold: threshold,
            deviationThresholdPercent: thresholdPercent, rejectLimit: rejectLimit,
            pseudonymKey: key, mappings: mappings, sources: sources, budgets: budgets)
        var result = cfg
        result.budgetRejectLimit = budgetRejectLimit
        result.budgetDefaultUnit = budgetDefaultUnit
        result.budgetResult = budgetResult
        result.closedMonthsLocked = closedMonthsLocked
        result.diagnosticsBase = givenDir
        result.volatileLines = volatileLines
        result.lineMethods = lineMethods
        if let hn = top["forecast_history"] {
            let hm = r.mapping(hn, context: "forecast_history", allowed: ["path", "checkpoints"])
            if hm["path"] != nil {
                r.warning(
                    hm["path"],
                    "forecast_history: path is no longer used and is ignored: each checkpoint's forecast is read from that checkpoint's own sealed run",
                    key: "path")
            }
            var names: [Int: String] = [:]
            for (k, v) in r.mapping(
                hm["checkpoints"], context: "forecast_history checkpoints", allowed: Set((1...12).map { $0 < 10 ? "0\($0)" : "\($0)" }))
            {
                if let month = Int(k), let name = v.string { names[month] = name }
            }
            if names.isEmpty {
                r.error(hn, "forecast_history: checkpoints is missing; name the months whose runs are checkpoints, e.g. \"04\": Delårsbokslut")
            }
            result.forecastHistory = ForecastHistorySettings(checkpointNames: names)
        }
        if let kn = top["key_figures"] {
            let km = r.mapping(kn, context: "key_figures", allowed: ["households_target", "open_care_units", "family_homes"])
            if let t = r.string(km, "households_target", context: "key_figures", required: false, parent: kn) {
                if let n = Int64(t.replacingOccurrences(of: " ", with: "")), n >= 0, n <= 100_000_000 {
                    result.keyFigures.householdsTarget = n
                } else {
                    r.error(km["households_target"], "key_figures: households_target \"\(t)\" is not a number of households, e.g. 1 300")
                }
            }
            result.keyFigures.openCareUnits = (km["open_care_units"]?.sequence.map { Array($0) } ?? []).compactMap(\.string)
            if let fn = km["family_homes"] {
                let fm = r.mapping(fn, context: "key_figures family_homes", allowed: ["consultant", "fee_based"])
                let consultant = (fm["consultant"]?.sequence.map { Array($0) } ?? []).compactMap(\.string)
                let fee = (fm["fee_based"]?.sequence.map { Array($0) } ?? []).compactMap(\.string)
                if consultant.isEmpty || fee.isEmpty {
                    r.error(
                        fn,
                        "key_figures: family_homes needs consultant and fee_based, each a list of forms of care, e.g. consultant: [Konsulentstött familjehem]"
                    )
                }
                result.keyFigures.familyHomes = .init(consultant: consultant, feeBased: fee)
            }
        }
        if let inv = top["investments"] {
            let im = r.mapping(inv, context: "investments", allowed: ["lines", "accounts", "scope", "budget"])
            func file(_ k: String, required: Bool) -> String? {
                guard let s = r.string(im, k, context: "investments", required: required, parent: inv) else { return nil }
                let p = resolve(s)
                if !FileIO.exists(p) { r.error(im[k], "investments: \(k) file \(s) does not exist") }
                return p
            }
            let scope = (im["scope"]?.sequence.map { Array($0) } ?? []).compactMap(\.string)
            if scope.isEmpty || scope.contains(where: { $0.isEmpty || !$0.allSatisfy(\.isNumber) }) {
                r.error(
                    im["scope"] ?? inv,
                    "investments: scope must list the account prefixes that hold investments, e.g. [\"11\", \"12\"] (Kommun-Bas class 1 acquisitions)"
                )
            }
            result.investments = InvestmentSettings(
                lines: file("lines", required: true) ?? "", accounts: file("accounts", required: true) ?? "", scope: scope,
                budget: file("budget", required: false))
        }
        if let mf = r.string(top, "manual_forecasts", context: "pipeline", required: false, parent: root) {
            let abs = resolve(mf)
            if !FileIO.exists(abs) { r.error(top["manual_forecasts"], "manual_forecasts: file \(mf) does not exist") }
            result.manualForecasts = abs
        }
        if let vn = top["volume_tables"] {
            for item in vn.sequence.map({ Array($0) }) ?? [] {
                let vm = r.mapping(
                    item, context: "volume table",
                    allowed: [
                        "name", "units", "forms", "legal_basis", "budget_line", "planned_days", "persons", "to_date_row",
                    ])
                let name = r.string(vm, "name", context: "volume table", required: true, parent: item) ?? ""
                let units = (vm["units"]?.sequence.map { Array($0) } ?? []).compactMap(\.string)
                if units.isEmpty { r.error(vm["units"] ?? item, "volume table \(name): units must list at least one unit") }
                let forms = (vm["forms"]?.sequence.map { Array($0) } ?? []).compactMap(\.string)
                // No budget line: a table without a budget column's figures.
                let line = r.string(vm, "budget_line", context: "volume table", required: false, parent: item) ?? ""
                var planned: [Int: Int64] = [:]
                for (k, v) in r.mapping(vm["planned_days"], context: "volume table \(name) planned_days", allowed: nil) {
                    let days = v.string.map { $0.replacingOccurrences(of: " ", with: "") }.flatMap { Int64($0) }
                    guard let y = Int(k), (1900...9999).contains(y), let days, (0...10_000_000_000).contains(days) else {
                        r.error(
                            v,
                            "volume table \(name): planned_days \"\(k)\": \(v.string ?? "") is not a year and a number of days, e.g. \"2023\": 10 200"
                        )
                        continue
                    }
                    planned[y] = days
                }
                var table = VolumeTable(name: name, units: units, forms: forms, budgetLine: line, plannedDays: planned)
                table.legalBasis = (vm["legal_basis"]?.sequence.map { Array($0) } ?? []).compactMap(\.string)
                switch vm["persons"]?.string {
                case nil: break
                case "true", "yes": table.persons = true
                case "false", "no": table.persons = false
                case let other?: r.error(vm["persons"], "volume table \(name): persons \"\(other)\" must be true or false")
                }
                switch vm["to_date_row"]?.string {
                case nil: break
                case "true", "yes": table.toDateRow = true
                case "false", "no": table.toDateRow = false
                case let other?: r.error(vm["to_date_row"], "volume table \(name): to_date_row \"\(other)\" must be true or false")
                }
                result.volumeTables.append(table)
            }
        }
        if let inn = top["inbox"] {
            let im = r.mapping(inn, context: "inbox", allowed: ["path", "archive", "rejected"])
            if let p = r.string(im, "path", context: "inbox", required: true, parent: inn),
                let a = r.string(im, "archive", context: "inbox", required: true, parent: inn)
            {
                let dir = resolve(p)
                result.inbox = InboxSettings(
                    directory: dir, archive: resolve(a), rejected: im["rejected"]?.string.map(resolve) ?? dir + "/rejected")
                if !result.sources.contains(where: { $0.inboxPattern != nil }) {
                    r.warning(
                        inn, "inbox: no source has an inbox pattern, so no export would be picked up; give sources inbox: \"name-*.csv\"",
                        key: "inbox")
                }
            }
        }
        if let wn = top["warehouse"] {
            let wm = r.mapping(wn, context: "warehouse", allowed: ["postgres"])
            if let pn = wm["postgres"] {
                let pm = r.mapping(pn, context: "warehouse postgres", allowed: ["url", "env", "schema"])
                result.warehouseSchema = pm["schema"]?.string
                if let u = pm["url"]?.string {
                    result.warehousePostgres = .url(u)
                } else if let e = pm["env"]?.string {
                    result.warehousePostgres = .environment(e)
                } else {
                    r.error(pn, "warehouse postgres: give url (postgres://user:password@host:port/database) or env (the variable holding it)")
                }
            }
        }
        if let cn = top["committee_tables"] {
            let cm = r.mapping(
                cn, context: "committee_tables",
                allowed: [
                    "units", "varav", "residual_name", "net_cost_sign", "tables", "kommunbidrag", "kommunbidrag_line",
                ])
            var ct = CommitteeTablesSettings()
            ct.units = (cm["units"]?.sequence.map { Array($0) } ?? []).compactMap(\.string)
            if let n = r.string(cm, "residual_name", context: "committee_tables", required: false, parent: cn) { ct.residualName = n }
            switch r.string(cm, "net_cost_sign", context: "committee_tables", required: false, parent: cn) {
            case nil, "negative": ct.netCostPositive = false
            case "positive": ct.netCostPositive = true
            case let other?:
                r.error(cm["net_cost_sign"], "committee_tables: net_cost_sign \"\(other)\" is not known; use negative (report sign) or positive")
            }
            switch r.string(cm, "kommunbidrag", context: "committee_tables", required: false, parent: cn) {
            case nil, "root": ct.kommunbidragOnUnits = false
            case "units": ct.kommunbidragOnUnits = true
            case let other?:
                r.error(
                    cm["kommunbidrag"],
                    "committee_tables: kommunbidrag \"\(other)\" is not known; use root (shown on the committee only) or units (a frame per unit)")
            }
            if let l = r.string(cm, "kommunbidrag_line", context: "committee_tables", required: false, parent: cn) { ct.kommunbidragLine = l }
            for item in cm["varav"]?.sequence.map({ Array($0) }) ?? [] {
                let vm = r.mapping(item, context: "varav row", allowed: ["name", "units", "lines"])
                let name = r.string(vm, "name", context: "varav row", required: true, parent: item) ?? ""
                let units = (vm["units"]?.sequence.map { Array($0) } ?? []).compactMap(\.string)
                if units.isEmpty { r.error(vm["units"] ?? item, "varav row \(name): units must list at least one unit") }
                let lines = (vm["lines"]?.sequence.map { Array($0) } ?? []).compactMap(\.string)
                ct.varav.append(.init(name: name, units: units, lines: lines))
            }
            for (name, tn) in r.mapping(cm["tables"], context: "committee_tables tables", allowed: Set(CommitteeTablesSettings.tableNames)) {
                let tm = r.mapping(
                    tn, context: "committee_tables table \(name)", allowed: ["title", "labels", "columns", "unit", "decimals", "hide_lines"])
                let context = "committee_tables table \(name)"
                var shape = CommitteeTablesSettings.TableShape()
                shape.title = r.string(tm, "title", context: context, required: false, parent: tn)
                let isInvestment = CommitteeTablesSettings.investmentTables.contains(name)
                let columnKeys: Set<String> =
                    isInvestment
                    ? ["budget_ore", "actual_ore", "forecast_ore", "deviation_ore", "actual_previous_year_ore", "diff_ore", "completion_pct"]
                    : name == "drift"
                        ? [
                            "budget_tkr", "actual_tkr", "deviation_tkr", "previous_year_tkr", "diff_tkr", "budget_ytd_tkr", "forecast_tkr",
                            "forecast_deviation_tkr",
                        ]
                        : [
                            "forecast_ore", "budget_ore", "deviation_ore", "budget_next_year_ore", "actual_previous_year_ore", "change_ore",
                            "budget_previous_year_ore",
                        ]
                let rowKeys: Set<String> = CommitteeTablesSettings.tablesByLine.contains(name) ? [] : ["total", "varav_revenue", "varav_cost"]
                func isColumn(_ key: String) -> Bool {
                    columnKeys.contains(key)
                        || (name != "drift" && key.hasPrefix("plan_") && key.hasSuffix("_ore") && key.dropFirst(5).dropLast(4).allSatisfy(\.isNumber))
                }
                let known = columnKeys.sorted().joined(separator: ", ") + (name == "drift" ? "" : " or plan_YYYY_ore")
                for (key, v) in r.mapping(tm["labels"], context: context + " labels", allowed: nil) {
                    guard isColumn(key) || key == "corner" || rowKeys.contains(key) || isInvestment else {
                        r.error(
                            v, "\(context) labels: \"\(key)\" is not a column; use corner, \(rowKeys.sorted().map { $0 + ", " }.joined())\(known)")
                        continue
                    }
                    if let l = v.string { shape.labels[key] = l } else { r.error(v, "\(context) labels: \(key) must be a text") }
                }
                shape.columns = (tm["columns"]?.sequence.map { Array($0) } ?? []).compactMap(\.string)
                if let unknown = shape.columns.first(where: { !isColumn($0) }) {
                    r.error(tm["columns"], "\(context) columns: \"\(unknown)\" is not a column; use \(known)")
                }
                switch r.string(tm, "unit", context: context, required: false, parent: tn) {
                case nil: break
                case "mnkr": shape.mnkr = true
                case "tkr": shape.mnkr = false
                case let other?: r.error(tm["unit"], "\(context): unit \"\(other)\" is not known; use tkr or mnkr")
                }
                if let d = r.string(tm, "decimals", context: context, required: false, parent: tn) {
                    if ["0", "1", "2"].contains(d) {
                        shape.decimals = Int(d)
                    } else {
                        r.error(tm["decimals"], "\(context): decimals must be 0, 1 or 2 (mnkr)")
                    }
                    if shape.mnkr == false && d != "0" { r.error(tm["decimals"], "\(context): tkr are whole; decimals apply to mnkr") }
                }
                shape.hideLines = (tm["hide_lines"]?.sequence.map { Array($0) } ?? []).compactMap(\.string)
                if !shape.hideLines.isEmpty && !CommitteeTablesSettings.tablesByLine.contains(name) {
                    r.error(
                        tm["hide_lines"],
                        "\(context): hide_lines applies to drift and resultatbudget (the tables by report line); \(name)'s rows are units")
                }
                ct.shapes[name] = shape
            }
            result.committeeTables = ct
        }
        if let an = top["assistance"] {
            let am = r.mapping(an, context: "assistance", allowed: ["budget_line", "accounts"])
            let line = r.string(am, "budget_line", context: "assistance", required: true, parent: an) ?? ""
            let accounts = (am["accounts"]?.sequence.map { Array($0) } ?? []).compactMap(\.string)
            if accounts.isEmpty || accounts.contains(where: { $0.isEmpty || !$0.allSatisfy(\.isNumber) }) {
                r.error(am["accounts"] ?? an, "assistance: accounts must list account numbers or prefixes, e.g. [\"4511\"]")
            }
            result.assistance = AssistanceSettings(budgetLine: line, accounts: accounts)
        }
        if let iv = top["ivo"] {
            let im = r.mapping(iv, context: "ivo", allowed: ["quarter", "reporting_date"])
            let qText = r.string(im, "quarter", context: "ivo", required: true, parent: iv) ?? ""
            let dText = r.string(im, "reporting_date", context: "ivo", required: true, parent: iv) ?? ""
            let q = Quarter(qText), d = Day(iso: dText)
            if q == nil && !qText.isEmpty { r.error(im["quarter"], "ivo: quarter \"\(qText)\" is not a quarter; expected e.g. 2022-Q4") }
            if d == nil && !dText.isEmpty { r.error(im["reporting_date"], "ivo: reporting_date \"\(dText)\" is not a date; expected YYYY-MM-DD") }
            if let q, let d {
                if d <= q.lastDay {
                    r.error(im["reporting_date"], "ivo: reporting_date \(d) must come after the quarter's end (\(q.lastDay))")
                } else {
                    result.ivo = IVOSettings(quarter: q, reportingDate: d)
                }
            }
        }
        if let cn = top["case_reconciliation"] {
            let cm = r.mapping(cn, context: "case_reconciliation", allowed: ["placement_accounts", "tolerance_kr", "invoice_reference"])
            let accounts = (cm["placement_accounts"]?.sequence.map { Array($0) } ?? []).compactMap(\.string)
            if accounts.isEmpty || accounts.contains(where: { $0.isEmpty || !$0.allSatisfy(\.isNumber) }) {
                r.error(
                    cm["placement_accounts"] ?? cn, "case_reconciliation: placement_accounts must list account numbers or prefixes, e.g. [\"4631\"]")
            }
            var tolerance = Ore(kronor: 100)
            if let t = r.string(cm, "tolerance_kr", context: "case_reconciliation", required: false, parent: cn) {
                switch AmountParser().parse(Array(t.utf8)) {
                case .success(let o) where o.value >= 0: tolerance = o
                default: r.error(cm["tolerance_kr"], "case_reconciliation: tolerance_kr \"\(t)\" is not an amount in kronor, e.g. \"100\"")
                }
            }
            var settings = CaseReconciliationSettings(placementAccounts: accounts, tolerance: tolerance)
            if let pattern = r.string(cm, "invoice_reference", context: "case_reconciliation", required: false, parent: cn) {
                if let re = try? NSRegularExpression(pattern: pattern), pattern.contains("(?<placement>"), pattern.contains("(?<month>") {
                    _ = re
                    settings.invoiceReference = pattern
                } else {
                    r.error(
                        cm["invoice_reference"],
                        "case_reconciliation: invoice_reference must be a regular expression with the named groups (?<placement>…) and (?<month>…), e.g. \"faktura (?<placement>PL-\\d+) (?<month>\\d\\d)\""
                    )
                }
            }
            result.caseReconciliation = settings
        }
        return (result, r.diagnostics)
    }

    /// Picks the one profile among a source's candidates that recognises the file (a ledger CSV
    /// by the columns of its header line, after its skip_lines).
    static func identify(file: String, display: String, candidates: [(path: String, profile: SourceProfile)])
        -> Result<(String, SourceProfile), IdentityFailure>
    {
        var matches: [(String, SourceProfile)] = []
        var misses: [String] = []
        for (path, profile) in candidates {
            if let why = profile.recognise(file, display: display) { misses.append(why) } else { matches.append((path, profile)) }
        }
        if matches.count == 1 { return .success(matches[0]) }
        if matches.isEmpty {
            return .failure(IdentityFailure("no profile matches the header of \(display): " + misses.joined(separator: "; ")))
        }
        return .failure(
            IdentityFailure(
                "\(matches.count) profiles match the header of \(display) (\(matches.map(\.1.file).joined(separator: ", "))); name one, or make their columns tell the exports apart"
            ))
    }

    /// The absolute path of a path as outputs show it (the inverse of `display`): relative paths
    /// are taken from the pipeline file's directory.
    public func absolute(_ shown: String) -> String {
        PipelineConfig.absolute(shown, base: baseDirectory)
    }

    public static func absolute(_ shown: String, base: String) -> String {
        URL(fileURLWithPath: shown, relativeTo: URL(fileURLWithPath: base + "/")).standardizedFileURL.path
    }

    /// A path as shown in outputs: relative to the pipeline file's directory where possible.
    public func display(_ path: String) -> String { PipelineConfig.display(path, base: baseDirectory) }

    /// The same for a pipeline file in folder `base` (while the config is being built).
    static func display(_ path: String, base baseDirectory: String) -> String {
        let prefix = baseDirectory.hasSuffix("/") ? baseDirectory : baseDirectory + "/"
        if path.hasPrefix(prefix) { return String(path.dropFirst(prefix.count)) }
        // Walk up: ../ relative paths keep outputs free of machine-specific prefixes.
        var baseParts = baseDirectory.split(separator: "/").map(String.init)
        let parts = path.split(separator: "/").map(String.init)
        var ups = 0
        while !baseParts.isEmpty {
            let candidate = baseParts
            if parts.count > candidate.count && Array(parts.prefix(candidate.count)) == candidate {
                return String(repeating: "../", count: ups) + parts.dropFirst(candidate.count).joined(separator: "/")
            }
            baseParts.removeLast(); ups += 1
        }
        return path
    }

    /// A path as shown in messages to the user (relative to where the command was run).
    public func diagnosticName(_ path: String) -> String {
        let d = display(path)
        return d.hasPrefix("/") || diagnosticsBase.isEmpty ? d : diagnosticsBase + "/" + d
    }

    /// SHA-256 over everything that decides the outputs besides the inputs: the pipeline file,
    /// the profiles, the mapping tables, the effective as-of period and the tool version.
    public func settingsHash() throws -> String {
        var parts: [String] = ["tool=\(RamkollVersion.string)", "as_of=\(asOf)"]
        parts.append("pipeline=" + (try FileIO.sha256(ofFile: file).hex))
        for p in profilePaths { parts.append("profile=" + (try FileIO.sha256(ofFile: p).hex)) }
        for p in mappings.all { parts.append("mapping=" + (try FileIO.sha256(ofFile: p).hex)) }
        return FileIO.sha256(Data(parts.joined(separator: "\n").utf8))
    }
}
