import Foundation
import RamkollModel

/// `ramkoll init DIR`: a new municipality's folder, laid out as the repository's own:
///
///     DIR/Pipelines/<name>.yaml           the pipeline, every section present (most commented out)
///     DIR/Pipelines/kommunbas/            Kommun-Bas: accounts → report lines, the report lines with roles
///     DIR/Pipelines/profiles/             the export profiles (Raindance, Unit4/Agresso, SIE 4, case extracts)
///     DIR/Pipelines/<name>/               the committee's own tables: units, ansvar, local accounts
///     DIR/Inputs/{inkorg,arkiv,ledger,budget,case}/  where the exports go
///     DIR/secret/pseudonym.key            a new random key (mode 600)
///     DIR/runs/                           made by the first run
///
/// The Kommun-Bas tables and the profiles are copied from the installed data folder
/// (`PREFIX/share/ramkoll`, which `Scripts/install` fills) or, for a build in a checkout, from the
/// repository's `Pipelines`. Nothing that exists is overwritten.
public enum Scaffold {
    /// The folder holding `kommunbas/` and `profiles/`: beside the installed executable, else the
    /// checkout the executable was built in.
    public static func dataDirectory(executable: String = "/proc/self/exe") -> String? {
        let exe = URL(fileURLWithPath: executable).resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        var candidates = [dir.deletingLastPathComponent().appendingPathComponent("share/ramkoll").path]
        for _ in 0..<6 {
            if FileIO.exists(dir.appendingPathComponent("Package.swift").path) {
                candidates.append(dir.appendingPathComponent("Pipelines").path)
                break
            }
            dir = dir.deletingLastPathComponent()
        }
        return candidates.first { FileIO.exists($0 + "/kommunbas/accounts.csv") && FileIO.exists($0 + "/profiles") }
    }

    /// What `create` wrote, relative to the folder, in order.
    public struct Result: Sendable {
        public var pipeline: String
        public var files: [String]
    }

    /// Writes the scaffold. `name` is the pipeline's name (letters, digits, - and _).
    public static func create(
        directory: String, name: String, fiscalYear: Int, dataDirectory data: String, key: [UInt8]
    ) throws -> Result {
        guard name.range(of: #"^[a-z0-9][a-z0-9_-]*$"#, options: .regularExpression) != nil else {
            throw RamkollError(.usage, "the pipeline name \"\(name)\" must be lowercase letters a–z, digits, - and _ (e.g. storstad)")
        }
        guard (2000...2099).contains(fiscalYear) else {
            throw RamkollError(.usage, "--fiscal-year \(fiscalYear) is not a year between 2000 and 2099")
        }
        let fm = FileManager.default
        if let existing = try? fm.contentsOfDirectory(atPath: directory), !existing.isEmpty {
            throw RamkollError(.usage, "\(directory) exists and is not empty; init writes a new folder and overwrites nothing")
        }
        var files: [(String, Data, Int)] = []  // path, content, mode
        func add(_ path: String, _ text: String, mode: Int = 0o644) { files.append((path, Data(text.utf8), mode)) }
        func copy(_ from: String, _ to: String) throws {
            guard let d = fm.contents(atPath: from) else { throw RamkollError(.input, "\(from) cannot be read (the installed data folder)") }
            files.append((to, d, 0o644))
        }
        for f in ["accounts.csv", "report-lines.csv"] { try copy("\(data)/kommunbas/\(f)", "Pipelines/kommunbas/\(f)") }
        for f in try fm.contentsOfDirectory(atPath: "\(data)/profiles").filter({ $0.hasSuffix(".yaml") }).sorted() {
            try copy("\(data)/profiles/\(f)", "Pipelines/profiles/\(f)")
        }
        add("Pipelines/\(name).yaml", pipeline(name: name, year: fiscalYear))
        add("Pipelines/\(name)/units.csv", units)
        add("Pipelines/\(name)/ansvar.csv", ansvar)
        add("Pipelines/\(name)/accounts-local.csv", accountsLocal)
        add("secret/pseudonym.key", Data(key).base64EncodedString() + "\n", mode: 0o600)

        for d in ["Inputs/ledger", "Inputs/budget", "Inputs/case", "Inputs/inkorg", "Inputs/arkiv"] {
            try fm.createDirectory(atPath: directory + "/" + d, withIntermediateDirectories: true)
        }
        try fm.createDirectory(atPath: directory + "/secret", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        for (path, data, mode) in files {
            let full = directory + "/" + path
            try fm.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try FileIO.writeAtomically(data, to: full)
            try fm.setAttributes([.posixPermissions: mode], ofItemAtPath: full)
        }
        return Result(pipeline: "Pipelines/\(name).yaml", files: files.map(\.0))
    }

    static let units = """
        # The committee's organisation: nämnd → avdelning → enhet (id;name;parent). A parent is defined
        # above its children; the first row is the committee. Replace these rows with the committee's own
        # units: every figure is reported per unit, and ansvar.csv points the ledger's ansvar codes here.
        id;name;parent
        SN;Socialnämnden;
        NG;Nämnd och förvaltningsledning;SN
        IFO;Individ- och familjeomsorg;SN
        IFO-BU;Barn och unga;IFO
        IFO-VUX;Vuxna;IFO
        IFO-EKB;Ekonomiskt bistånd;IFO
        FH;Funktionshinder;SN

        """

    static let ansvar = """
        # The ledger's ansvar codes (the cost centre dimension) → unit. A rule covers every code whose
        # first N characters (N = the length of "from") lie between from and to; the longest rule wins.
        # A ledger row whose ansvar no rule covers is rejected with its file and line, never dropped.
        from;to;unit
        10;19;NG
        20;29;IFO-BU
        30;39;IFO-VUX
        40;49;IFO-EKB
        50;59;FH

        """

    static let accountsLocal = """
        # The committee's own accounts beside Kommun-Bas (account → report line), read after
        # kommunbas/accounts.csv: a rule here wins over Kommun-Bas's at the same length. Line "-"
        # leaves accounts out of the result reports (balance sheet accounts). Example:
        #   46390;46399;KOP
        from;to;line

        """

    /// The pipeline file: what a first run needs, and every other section commented out with what
    /// it does.
    static func pipeline(name: String, year: Int) -> String {
        """
        # Ramkoll pipeline for \(name), fiscal year \(year). Paths are relative to this file.
        # `ramkoll check Pipelines/\(name).yaml` validates it and every file it names;
        # `ramkoll run Pipelines/\(name).yaml --as-of \(year)-01` runs it (runs/\(name)/ beside Pipelines/).
        name: \(name)
        fiscal_year: \(year)
        as_of: \(year)-01             # the business date of a run without --as-of (never taken from the clock)

        settings:
          care_days: inclusive                   # or exclude-discharge (the day of discharge is not a care day)
          forecast_method: ytd-plus-budget       # or run-rate or seasonal (all three are written; this one is selected)
          deviation_threshold_kr: "250 000"      # flag a unit and line when |avvikelse to date| ≥ this …
          deviation_threshold_percent: "5"       # … and ≥ this share of |budget to date|
          reject_limit_percent: "1"              # more rejected ledger rows than this → exit 65 (data error)
          # budget_reject_limit_percent: "0"     # budget rows that may be rejected (default none: every krona counts)
          # volatile_lines: [KOP]                # forecasts of these lines carry a range (lowest–highest method)
          # line_methods:                        # lines forecast from the case system instead
          #   KOP: activity-based                # placements: delivered + committed remaining + expected new
          #   EKB: driver-based                  # ekonomiskt bistånd: households × amount per household
          # closed_months: locked                # refuse ledger rows dated in a closed month (default: warn)

        # The key for the pseudonyms of persons (case extracts). `ramkoll init` made a random one; keep
        # it secret and never change it (the pseudonyms would change). On a server, prefer
        #   pseudonym_key: {env: RAMKOLL_PSEUDONYM_KEY}
        pseudonym_key:
          file: ../secret/pseudonym.key

        mappings:
          report_lines: kommunbas/report-lines.csv   # the committee's report lines, with their roles
          accounts:
            - kommunbas/accounts.csv                 # Kommun-Bas: account → report line
            - \(name)/accounts-local.csv               # the committee's own accounts (later files win)
          units: \(name)/units.csv                     # nämnd → avdelning → enhet
          ansvar: \(name)/ansvar.csv                   # ansvar code → unit

        # The exports, one source per file. A list of profiles lets Ramkoll pick the one whose columns
        # the file's header has. For another CSV layout, `ramkoll init --from-export FILE` proposes a
        # profile from its header and first rows. An export dropped in the inbox (below) whose name
        # fits a source's inbox pattern is put at its path by `ramkoll inbox` (the nightly job runs it).
        sources:
          - id: huvudbok
            path: ../Inputs/ledger/huvudbok-\(year).csv
            profile: [profiles/raindance-huvudbok.yaml, profiles/agresso-kontoutdrag.yaml]
            inbox: "huvudbok-*.csv"
          # SIE 4 (Visma, Fortnox, BL and most accounting programs): vouchers, else period balances.
          # - id: sie
          #   path: ../Inputs/ledger/bokforing-\(year).se
          #   profile: profiles/sie-4.yaml
          # Last year's ledger, for the comparison columns (its rows keep their own year).
          # - id: huvudbok-foregaende
          #   path: ../Inputs/ledger/huvudbok-\(year - 1).csv
          #   profile: profiles/raindance-huvudbok.yaml
          # The case system's XML extracts: placements (care days, volume tables, activity-based
          # forecasts), decisions (the IVO report) and payments of ekonomiskt bistånd.
          # - id: placeringar
          #   path: ../Inputs/case/placeringar-\(year).xml
          #   profile: profiles/lifecare-placeringar.yaml
          # - id: beslut
          #   path: ../Inputs/case/beslut-\(year).xml
          #   profile: profiles/lifecare-beslut.yaml
          # - id: utbetalningar
          #   path: ../Inputs/case/utbetalningar-\(year).xml
          #   profile: profiles/lifecare-utbetalningar.yaml

        # The committee's budget (internbudget): a CSV of unit;line;month columns, or an SIE file's
        # #PBUDGET. Put it in Inputs/budget/ and take away the #s.
        # budget:
        #   - path: ../Inputs/budget/internbudget-\(year).csv
        #   - path: ../Inputs/budget/budget-\(year).se
        #     profile: profiles/sie-4.yaml

        # Ledger ↔ case system: the accounts purchased placements are booked on, the difference per
        # unit that still counts as matched, and how an invoice text names the placement and month.
        # case_reconciliation:
        #   placement_accounts: ["4631"]
        #   tolerance_kr: "100"
        #   invoice_reference: 'faktura (?<placement>PL-\\d+) (?<month>\\d\\d)'

        # The IVO report of favourable decisions not executed within three months.
        # ivo:
        #   quarter: \(year)-Q1
        #   reporting_date: \(year)-04-10

        # Ekonomiskt bistånd: the report line its budget is on and the accounts it is paid from.
        # assistance:
        #   budget_line: EKB
        #   accounts: ["4511"]

        # Volume tables: care days, budget and net cost of purchased placements per group of units.
        # volume_tables:
        #   - name: Placeringar barn och unga
        #     units: [IFO-BU]
        #     budget_line: KOP
        #     planned_days: {"\(year + 1)": "10 000"}
        #     persons: true

        # The committee's tables: sign of net costs, varav rows, titles and labels of each table.
        # committee_tables:
        #   net_cost_sign: positive
        #   kommunbidrag: root                   # or units (a frame per unit)
        #   varav:
        #     - name: varav placeringar barn och unga
        #       units: [IFO-BU]
        #       lines: [KOP]

        # The checkpoints of the year whose forecasts meet the outcome at the close.
        # forecast_history:
        #   checkpoints:
        #     "04": Fördjupad månadsuppföljning
        #     "08": Delårsbokslut

        # Forecasts entered by hand per unit and line (or investment row), with their author.
        # manual_forecasts: ../Inputs/budget/manuella-prognoser.csv

        # Key figures (nyckeltal) of the year-end report.
        # key_figures:
        #   households_target: "170"
        #   open_care_units: [IFO-BU]
        #   family_homes:
        #     consultant: [Konsulentstött familjehem]
        #     fee_based: [Familjehem]

        # Investments: the rows of the investment tables, their accounts and the investment budget.
        # investments:
        #   lines: \(name)/investment-lines.csv
        #   accounts: \(name)/investment-accounts.csv
        #   scope: ["11", "12"]
        #   budget: ../Inputs/budget/investeringsbudget-\(year).csv

        # The folder the exports are dropped in; `ramkoll inbox` checks each one against its source's
        # profile, keeps a copy in the archive and puts it at the source's path (or in rejected/, with why).
        inbox:
          path: ../Inputs/inkorg
          archive: ../Inputs/arkiv

        # A PostgreSQL warehouse beside the SQLite one (the URL from the environment).
        # warehouse:
        #   postgres:
        #     env: RAMKOLL_WAREHOUSE_URL

        """
    }
}
