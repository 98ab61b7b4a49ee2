import Foundation
import XCTest

@testable import RamkollPipeline
@testable import RamkollReaders

final class XMLRecordReaderTests: XCTestCase {
    let paths = ["@id", "@start", "Vardform", "Pris/@dygn", "Pris", "../@enhet", "ancestor::Extrakt/@system", "Saknas", "Anteckning"]

    func read(_ xml: String) throws -> [XMLRecord] {
        let dir = try TestPaths.temporaryDirectory()
        let p = try TestPaths.write(xml, name: "x.xml", in: dir)
        let r = try XMLRecordReader(path: p, recordElement: "Placering", fieldPaths: paths)
        var out: [XMLRecord] = []
        while let rec = try r.next() { out.append(rec) }
        return out
    }

    func testFieldPathsRelativeToTheRecord() throws {
        let recs = try read(
            """
            <?xml version="1.0" encoding="UTF-8"?>
            <Extrakt system="Lifecare">
              <Arende enhet="61030">
                <Placering id="P1" start="2022-01-05">
                  <Vardform>HVB</Vardform>
                  <Pris dygn="3 450,00">a</Pris>
                  <Pris dygn="3 600,00">b</Pris>
                  <Anteckning/>
                </Placering>
                <Placering id="P2" start="2022-03-01"/>
              </Arende>
              <Arende enhet="62010"><Placering id="P3"><Vardform><![CDATA[SiS & LVM]]></Vardform></Placering></Arende>
            </Extrakt>
            """)
        XCTAssertEqual(recs.map(\.index), [1, 2, 3])
        XCTAssertEqual(recs.map(\.line), [4, 10, 12])
        XCTAssertEqual(recs[0].first("@id"), "P1")
        XCTAssertEqual(recs[0].first("Vardform"), "HVB")
        XCTAssertEqual(recs[0].values["Pris/@dygn"], ["3 450,00", "3 600,00"], "repeated children keep every value in order")
        XCTAssertEqual(recs[0].values["Pris"], ["a", "b"])
        XCTAssertEqual(recs[0].all("Pris/@dygn"), ["3 450,00", "3 600,00"])
        XCTAssertEqual(recs[0].all("Saknas"), [])
        XCTAssertEqual(recs[0].first("../@enhet"), "61030")
        XCTAssertEqual(recs[0].first("ancestor::Extrakt/@system"), "Lifecare")
        XCTAssertEqual(recs[0].first("Anteckning"), "")
        XCTAssertNil(recs[0].first("Saknas"))
        XCTAssertEqual(recs[1].first("@start"), "2022-03-01")
        XCTAssertEqual(recs[1].first("../@enhet"), "61030")
        XCTAssertEqual(recs[2].first("../@enhet"), "62010", "the ancestor stack follows the document")
        XCTAssertEqual(recs[2].first("Vardform"), "SiS & LVM")
    }

    func testDeclaredEncodingIsHonoured() throws {
        let dir = try TestPaths.temporaryDirectory()
        let body =
            Array("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><E><Placering id=\"x\"><Vardform>".utf8) + [0xC5, 0x6E, 0x67]
            + Array("</Vardform></Placering></E>".utf8)
        let p = try TestPaths.write(bytes: body, name: "l1.xml", in: dir)
        let r = try XMLRecordReader(path: p, recordElement: "Placering", fieldPaths: ["Vardform"])
        XCTAssertEqual(try r.next()?.first("Vardform"), "Ång")
    }

    func testTruncatedXMLGivesLineAndKeepsEarlierRecords() throws {
        let dir = try TestPaths.temporaryDirectory()
        let p = try TestPaths.write("<E>\n<Placering id=\"1\"/>\n<Placering id=\"2\">\n<Vardform>HVB", name: "t.xml", in: dir)
        let r = try XMLRecordReader(path: p, recordElement: "Placering", fieldPaths: ["@id"])
        XCTAssertEqual(try r.next()?.first("@id"), "1")
        XCTAssertThrowsError(try r.next()) { e in
            let err = e as! ReaderError
            XCTAssertEqual(err.file, p)
            XCTAssertEqual(err.line, 4)
            XCTAssertTrue(err.message.hasPrefix("XML is not well-formed: "), err.message)
        }
        XCTAssertNil(try r.next(), "after an error the reader is finished")
    }

    func testDocumentsDeclaringEntitiesAreRefused() throws {
        let dir = try TestPaths.temporaryDirectory()
        var laughs = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n"
        for i in 1...9 { laughs += " <!ENTITY lol\(i) \"" + String(repeating: "&lol\(i == 1 ? "" : String(i - 1));", count: 10) + "\">\n" }
        laughs += "]>\n<E><Placering id=\"&lol9;\"/></E>\n"
        let bomb = try TestPaths.write(laughs, name: "bomb.xml", in: dir)
        XCTAssertThrowsError(try XMLRecordReader(path: bomb, recordElement: "Placering", fieldPaths: ["@id"])) { e in
            let err = e as! ReaderError
            XCTAssertEqual(err.line, 2)
            XCTAssertTrue(err.message.hasPrefix("the document has a document type declaration (<!DOCTYPE …>)"), err.message)
        }
        let xxe = try TestPaths.write(
            "<?xml version=\"1.0\"?><!DOCTYPE E [<!ENTITY x SYSTEM \"http://example.invalid/x\">]><E><Placering id=\"&x;\"/></E>", name: "xxe.xml",
            in: dir)
        XCTAssertThrowsError(try XMLRecordReader(path: xxe, recordElement: "Placering", fieldPaths: ["@id"]))
        // "<!ENTITY" inside the document's text is not a declaration.
        let fine = try TestPaths.write(
            "<E><Placering id=\"1\"><Anteckning>&lt;!ENTITY is text here</Anteckning></Placering></E>", name: "fine.xml", in: dir)
        XCTAssertEqual(try XMLRecordReader(path: fine, recordElement: "Placering", fieldPaths: ["@id"]).next()?.first("@id"), "1")
    }

    func testNamespacesDefaultAndPrefixedAreMatchedByLocalName() throws {
        let dir = try TestPaths.temporaryDirectory()
        let p = try TestPaths.write(
            """
            <?xml version="1.0"?>
            <x:Extrakt xmlns:x="urn:case:1" xmlns="urn:case:default"><x:Arende enhet="61030"><Placering id="P1" start="2022-01-01"><x:Vardform>HVB</x:Vardform></Placering></x:Arende></x:Extrakt>
            """, name: "ns.xml", in: dir)
        let r = try XMLRecordReader(path: p, recordElement: "Placering", fieldPaths: ["@id", "Vardform", "../@enhet", "ancestor::Arende/@enhet"])
        let rec = try r.next()
        XCTAssertEqual(rec?.first("@id"), "P1")
        XCTAssertEqual(rec?.first("Vardform"), "HVB")
        XCTAssertEqual(rec?.first("../@enhet"), "61030")
        XCTAssertEqual(rec?.first("ancestor::Arende/@enhet"), "61030")
    }

    /// The prolog scan this reader once had could be walked around: a comment holding `<a`, a
    /// processing instruction or UTF-16 before the declaration hid it, and references were then
    /// expanded (a 99 kB extract wrote 15.2 GB). The parser's own callbacks refuse every one.
    func testADocumentTypeDeclarationIsRefusedHoweverItIsHidden() throws {
        let dir = try TestPaths.temporaryDirectory()
        let entity = "<!ENTITY big \"" + String(repeating: "B", count: 1000) + "\">"
        let body = "<E><Placering id=\"&big;&big;\"><Vardform>&big;</Vardform></Placering></E>\n"
        let variants: [(String, [UInt8])] = [
            ("comment", Array(("<?xml version=\"1.0\"?>\n<!DOCTYPE E [ <!-- <a --> " + entity + " ]>\n" + body).utf8)),
            ("comment before", Array(("<?xml version=\"1.0\"?>\n<!-- <a -->\n<!DOCTYPE E [ " + entity + " ]>\n" + body).utf8)),
            ("processing instruction", Array(("<?xml version=\"1.0\"?>\n<?pi <a?>\n<!DOCTYPE E [ " + entity + " ]>\n" + body).utf8)),
            (
                "utf-16",
                [0xFF, 0xFE]
                    + ("<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n<!DOCTYPE E [ " + entity + " ]>\n" + body).utf16.flatMap {
                        [UInt8($0 & 0xFF), UInt8($0 >> 8)]
                    }
            ),
            ("doctype without subset", Array(("<?xml version=\"1.0\"?>\n<!DOCTYPE E SYSTEM \"file:///etc/passwd\">\n" + body).utf8)),
        ]
        for (what, bytes) in variants {
            let p = try TestPaths.write(bytes: bytes, name: "\(what.replacingOccurrences(of: " ", with: "-")).xml", in: dir)
            XCTAssertThrowsError(try XMLRecordReader(path: p, recordElement: "Placering", fieldPaths: ["@id", "Vardform"]), what) { e in
                let err = e as! ReaderError
                XCTAssertTrue(err.message.hasPrefix("the document has a document type declaration (<!DOCTYPE …>)"), "\(what): \(err.message)")
                XCTAssertEqual(err.line, ["comment before": 3, "processing instruction": 3][what] ?? 2, what)
            }
        }
    }

    /// Without a DTD, a reference to an entity in an attribute or in text stops the document
    /// where it stands (records before it are read); the five predefines are text.
    func testEntityReferencesInAttributesAndTextAreErrorsAndPredefinesAreText() throws {
        let dir = try TestPaths.temporaryDirectory()
        for (what, doc) in [
            ("attribute", "<E>\n<Placering id=\"1\"/>\n<Placering id=\"&x;\"/>\n</E>\n"),
            ("text", "<E>\n<Placering id=\"1\"/>\n<Placering id=\"2\"><Vardform>&x;</Vardform></Placering>\n</E>\n"),
        ] {
            let p = try TestPaths.write(doc, name: what + ".xml", in: dir)
            let r = try XMLRecordReader(path: p, recordElement: "Placering", fieldPaths: ["@id", "Vardform"])
            XCTAssertEqual(try r.next()?.first("@id"), "1", what)
            XCTAssertThrowsError(try r.next(), what) { e in
                let err = e as! ReaderError
                XCTAssertEqual(err.line, 3, what)
                XCTAssertTrue(err.message.hasPrefix("the document refers to the entity &x; — Ramkoll expands no entities"), "\(what): \(err.message)")
            }
            XCTAssertNil(try r.next())
        }
        let fine = try TestPaths.write(
            "<E><Placering id=\"a&amp;b&#x41;&#38;&amp;#38;\"><Vardform>&lt;HVB&gt; &quot;&apos;</Vardform></Placering></E>", name: "predefined.xml",
            in: dir)
        let rec = try XMLRecordReader(path: fine, recordElement: "Placering", fieldPaths: ["@id", "Vardform"]).next()
        XCTAssertEqual(rec?.first("@id"), "a&bA&&#38;")
        XCTAssertEqual(rec?.first("Vardform"), "<HVB> \"'")
    }

    /// A record inside a record was dropped without a word; now it stops the document there.
    func testARecordNestedInARecordIsAnError() throws {
        let dir = try TestPaths.temporaryDirectory()
        let p = try TestPaths.write(
            "<E>\n<Placering id=\"1\"/>\n<Placering id=\"2\">\n<X><Placering id=\"3\"/></X>\n</Placering>\n</E>\n", name: "nested.xml", in: dir)
        let r = try XMLRecordReader(path: p, recordElement: "Placering", fieldPaths: ["@id"])
        XCTAssertEqual(try r.next()?.first("@id"), "1")
        XCTAssertThrowsError(try r.next()) { e in
            let err = e as! ReaderError
            XCTAssertEqual(err.line, 4)
            XCTAssertEqual(
                err.message,
                "a <Placering> record inside another <Placering> record (the one from line 3): the extract's structure is not what the profile expects"
            )
        }
    }

    /// Element names the fields do not name are not remembered: a record with thousands of
    /// distinct names reads like any other (the reader's path table is made from the fields).
    func testRecordsWithManyDistinctElementNamesAreReadWithFieldsIntact() throws {
        let dir = try TestPaths.temporaryDirectory()
        var doc = "<E>\n"
        for r in 0..<200 {
            doc += "<Placering id=\"\(r)\">"
            for k in 0..<300 { doc += "<N\(r)x\(k) a=\"1\"><Deep>t</Deep></N\(r)x\(k)>" }
            doc += "<Vardform>HVB\(r)</Vardform></Placering>\n"
        }
        doc += "</E>\n"
        let p = try TestPaths.write(doc, name: "names.xml", in: dir)
        let r = try XMLRecordReader(path: p, recordElement: "Placering", fieldPaths: ["@id", "Vardform", "Person/@pnr"])
        var n = 0
        while let rec = try r.next() {
            XCTAssertEqual(rec.first("Vardform"), "HVB\(n)")
            n += 1
        }
        XCTAssertEqual(n, 200)
        XCTAssertEqual(r.knownPaths, 3, "the record, Vardform and Person: nothing from the document")
    }

    /// A value longer than 1 MiB (text or attribute) stops the document at its record: no
    /// field of an extract is that long, and memory stays bounded by the limit.
    func testAValueOverOneMebibyteIsAnError() throws {
        let dir = try TestPaths.temporaryDirectory()
        let long = String(repeating: "x", count: XMLRecordReader.maximumValueBytes + 1)
        for (what, doc) in [
            ("text", "<E>\n<Placering id=\"1\"/>\n<Placering id=\"2\"><Vardform>\(long)</Vardform></Placering>\n</E>\n"),
            ("attribute", "<E>\n<Placering id=\"1\"/>\n<Placering id=\"\(long)\"/>\n</E>\n"),
        ] {
            let p = try TestPaths.write(doc, name: what + ".xml", in: dir)
            let r = try XMLRecordReader(path: p, recordElement: "Placering", fieldPaths: ["@id", "Vardform"])
            XCTAssertEqual(try r.next()?.first("@id"), "1", what)
            XCTAssertThrowsError(try r.next(), what) { e in
                XCTAssertEqual(
                    (e as! ReaderError).message, "a value of record 2 (line 3) is longer than 1 MiB; no field of an extract is that long", what)
            }
        }
    }

    func testAnUndeclaredEntityReferenceIsAnError() throws {
        let dir = try TestPaths.temporaryDirectory()
        let p = try TestPaths.write("<E><Placering id=\"1\"><Vardform>&inner;</Vardform></Placering></E>", name: "undeclared.xml", in: dir)
        let r = try XMLRecordReader(path: p, recordElement: "Placering", fieldPaths: ["Vardform"])
        XCTAssertThrowsError(try r.next()) { e in
            XCTAssertTrue((e as! ReaderError).message.hasPrefix("the document refers to the entity &inner; — Ramkoll expands no entities"), "\(e)")
        }
    }
}

/// The bounded queue between the XML reader thread and the importer: batches in order, then
/// how the document ended; a stopped importer releases a reader waiting for room.
final class RecordBatchesTests: XCTestCase {
    func testBatchesArriveInOrderThenTheEnd() {
        let q = RecordBatches()
        let n = 50
        DispatchQueue.global().async {
            for i in 0..<n { _ = q.put([XMLRecord(index: i, line: i, values: [:])]) }
            q.finish(nil)
        }
        var seen: [Int] = []
        loop: while true {
            switch q.take() {
            case .records(let r): seen += r.map(\.index)
            case .end(let e): XCTAssertNil(e); break loop
            }
        }
        XCTAssertEqual(seen, Array(0..<n))
    }

    func testAStoppedImporterReleasesTheReader() {
        let q = RecordBatches()
        let stopped = expectation(description: "the reader saw the importer stop")
        DispatchQueue.global().async {
            var i = 0
            while q.put([XMLRecord(index: i, line: i, values: [:])]) { i += 1 }
            XCTAssertEqual(i, RecordBatches.depth + 1, "the queue held its depth, the importer took one")
            stopped.fulfill()
        }
        guard case .records(let first) = q.take() else { return XCTFail("no batch") }
        XCTAssertEqual(first.first?.index, 0)
        Thread.sleep(forTimeInterval: 0.2)  // the reader fills the queue and waits for room
        q.cancel()
        wait(for: [stopped], timeout: 10)
    }
}
