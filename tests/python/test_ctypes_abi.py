"""The C ABI from Python through ctypes: what a Python caller of libxmppfed does.

Run: python3 -m unittest discover -s tests/python -v   (XMPPFED_LIB = path of libxmppfed.so)

The store tests run twice: against a folder (CtypesAbiTest) and against a PostgreSQL central store
(CtypesAbiPostgresTest: a fresh schema per test of the cluster XMPPFED_TEST_POSTGRES names, which
scripts/test.sh starts; without it those tests fail, saying so).
"""

import ctypes
import json
import os
import pathlib
import pwd
import socket
import struct
import subprocess
import tempfile
import unittest
import uuid

REPO = pathlib.Path(__file__).resolve().parents[2]
LIB_PATH = os.environ.get("XMPPFED_LIB", str(REPO / "target" / "release" / "libxmppfed.so"))

OK, NULL_ARGUMENT, INVALID_UTF8, JSON_SHAPE, INVALID_DOMAIN, INVALID_VALUE = 0, 1, 2, 4, 5, 6
INVALID_NEGOTIATION, INVALID_FILTER, ALREADY_EXISTS, NOT_FOUND, DOMAIN_CONFLICT, STALE_INSTANCE = 7, 8, 9, 10, 11, 12
STORE_CHANGED, IMPORT_REJECTED = 21, 22
RECORDS_FORMAT = 1  # XMPPFED_RECORDS_FORMAT
PAGE_BYTES = 64 * 1024  # a page ends with the record that takes it to at least this many bytes


def load():
    lib = ctypes.CDLL(LIB_PATH)
    c_str, out_str = ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)
    store_p = ctypes.c_void_p
    signatures = {
        "xmppfed_abi_version": ([], ctypes.c_uint32),
        "xmppfed_result_name": ([ctypes.c_int32], c_str),
        "xmppfed_last_error_message": ([], c_str),
        "xmppfed_store_open": ([c_str, c_str, ctypes.POINTER(store_p)], ctypes.c_int),
        "xmppfed_store_close": ([store_p], None),
        "xmppfed_partner_new": ([store_p, c_str, ctypes.c_bool, out_str], ctypes.c_int),
        "xmppfed_partner_get": ([store_p, c_str, ctypes.c_bool, out_str], ctypes.c_int),
        "xmppfed_partner_list": ([store_p, c_str, ctypes.c_bool, out_str], ctypes.c_int),
        "xmppfed_partner_set": ([store_p, c_str, c_str, out_str], ctypes.c_int),
        "xmppfed_partner_set_instance": ([store_p, c_str, c_str, ctypes.c_bool, out_str], ctypes.c_int),
        "xmppfed_partner_remove": ([store_p, c_str, out_str], ctypes.c_int),
        "xmppfed_store_initialize": ([store_p, out_str], ctypes.c_int),
        "xmppfed_store_initialize_preview": ([store_p, out_str], ctypes.c_int),
        "xmppfed_partner_explain": ([store_p, c_str, ctypes.c_bool, out_str], ctypes.c_int),
        "xmppfed_store_history": ([store_p, c_str, out_str], ctypes.c_int),
        "xmppfed_store_export": ([store_p, c_str, c_str, ctypes.c_bool, out_str], ctypes.c_int),
        "xmppfed_store_import": ([store_p, c_str, c_str, out_str], ctypes.c_int),
        "xmppfed_store_import_preview": ([store_p, c_str, c_str, out_str], ctypes.c_int),
        "xmppfed_partner_list_pages": ([store_p, c_str, ctypes.c_bool, ctypes.POINTER(ctypes.c_void_p),
                                        ctypes.POINTER(ctypes.c_size_t)], ctypes.c_int),
        "xmppfed_partner_pages_next": ([ctypes.c_void_p, ctypes.POINTER(ctypes.POINTER(ctypes.c_uint8)),
                                        ctypes.POINTER(ctypes.c_size_t)], ctypes.c_int),
        "xmppfed_partner_pages_free": ([ctypes.c_void_p], None),
        "xmppfed_string_free": ([ctypes.c_void_p], None),
        "xmppfed_bytes_free": ([ctypes.POINTER(ctypes.c_uint8), ctypes.c_size_t], None),
    }
    for name, (args, result) in signatures.items():
        fn = getattr(lib, name)
        fn.argtypes, fn.restype = args, result
    return lib


PARTNER_TYPES = ("Federated", "PublicVerified", "PublicUnverified")
NEGOTIATIONS = ("Required", "Optional", "NotSupported")


def decode_records(data, starts=None):
    """The partners in records (a page of xmppfed_partner_list_pages, or pages joined), as json.loads
    gives the JSON list's; `starts`, a list, receives the offset of each record.

    Strict: a short buffer (struct.error), bytes after the last record, another format, an enum code
    or flag bit outside the layout, or a text that is not UTF-8 raises."""
    at = 0

    def take(fmt):
        nonlocal at
        values = struct.unpack_from("<" + fmt, data, at)
        at += struct.calcsize("<" + fmt)
        return values

    def text():
        nonlocal at
        (size,) = take("I")
        if size > len(data) - at:
            raise ValueError(f"a text of {size} bytes at offset {at} runs past the end ({len(data)} bytes)")
        value = data[at:at + size].decode("utf-8")
        at += size
        return value

    format_, count = take("II")
    if format_ != RECORDS_FORMAT:
        raise ValueError(f"format {format_}, not {RECORDS_FORMAT}")
    partners = []
    for _ in range(count):
        if starts is not None:
            starts.append(at)
        revision, connection_limit, partner_type, tls, sasl, flags = take("QIBBBB")
        if max(partner_type, tls, sasl) > 2 or flags & ~3:
            raise ValueError(f"codes {partner_type}, {tls}, {sasl}, flags {flags:#x} outside the layout")
        identity, domain, description, proxy_fqdn = text(), text(), text(), text()
        (n,) = take("I")
        additional = [text() for _ in range(n)]
        partners.append({
            "Identity": identity, "Domain": domain, "AdditionalDomains": additional, "Description": description,
            "ProxyFqdn": proxy_fqdn, "PartnerType": PARTNER_TYPES[partner_type], "TlsNegotiation": NEGOTIATIONS[tls],
            "SaslNegotiation": NEGOTIATIONS[sasl], "SupportDialbackNegotiation": bool(flags & 1),
            "EnableKeepAlive": bool(flags & 2), "ConnectionLimit": connection_limit, "Revision": revision,
        })
    if at != len(data):
        raise ValueError(f"{len(data) - at} bytes after the last record")
    return partners


def joined(pages):
    """The records of pages as one buffer, as one buffer of the whole list would be: the format,
    the count of all the pages, their records one after the other."""
    count = sum(struct.unpack_from("<I", page, 4)[0] for page in pages)
    return struct.pack("<II", RECORDS_FORMAT, count) + b"".join(page[8:] for page in pages)


def long_list():
    """An import's input whose list takes several pages: two partners of more than a page each
    (1,000 additional domains with 60-character first labels: about 81 KB of records), first in
    identity order, then 300 of about 1 KiB each (a 1,000-character description)."""
    text = "".join(chr(ord("a") + i % 26) for i in range(1000))
    large = [{"Identity": f"h{h}.pages.example", "AdditionalDomains": [f"d{k:03}-{text[:55]}.h{h}.pages.example" for k in range(1000)]}
             for h in (1, 2)]
    return large + [{"Identity": f"p{i:03}.pages.example", "Description": text} for i in range(300)]


class XmppFedError(Exception):
    def __init__(self, code, name, message):
        super().__init__(f"{name}: {message}")
        self.code, self.name = code, name


class Store:
    """A thin wrapper, as a Python binding would write it: JSON in, JSON out, codes to exceptions."""

    def __init__(self, lib, central, replica):
        self.lib = lib
        self.handle = ctypes.c_void_p()
        self._check(lib.xmppfed_store_open(central.encode(), replica.encode(), ctypes.byref(self.handle)))

    def close(self):
        self.lib.xmppfed_store_close(self.handle)

    def _check(self, code):
        if code != OK:
            name = self.lib.xmppfed_result_name(code).decode()
            raise XmppFedError(code, name, self.lib.xmppfed_last_error_message().decode())

    def _text(self, fn, *args):
        out = ctypes.c_void_p()
        self._check(fn(*args, ctypes.byref(out)))
        try:
            return ctypes.string_at(out.value).decode()
        finally:
            self.lib.xmppfed_string_free(out)

    def _call(self, fn, *args):
        return json.loads(self._text(fn, *args))

    def new(self, **properties):
        return self._call(self.lib.xmppfed_partner_new, self.handle, json.dumps(properties).encode(), False)

    def get(self, identity, local=False):
        return self._call(self.lib.xmppfed_partner_get, self.handle, identity.encode(), local)

    def list(self, filter=None, local=False):
        return self._call(self.lib.xmppfed_partner_list, self.handle, filter.encode() if filter else None, local)

    def list_pages(self, filter=None, local=False):
        """The pages of xmppfed_partner_list_pages (free them: Pages.free, or with)."""
        pages, count = ctypes.c_void_p(), ctypes.c_size_t()
        self._check(self.lib.xmppfed_partner_list_pages(self.handle, filter.encode() if filter else None, local,
                                                        ctypes.byref(pages), ctypes.byref(count)))
        return Pages(self.lib, pages, count.value, self._check)

    def set(self, identity, **changes):
        return self._call(self.lib.xmppfed_partner_set, self.handle, identity.encode(), json.dumps(changes).encode())

    def set_instance(self, partner, force=False):
        return self._call(self.lib.xmppfed_partner_set_instance, self.handle, json.dumps(partner).encode(), None, force)

    def remove(self, identity):
        return self._call(self.lib.xmppfed_partner_remove, self.handle, identity.encode())

    def initialize(self, preview=False):
        fn = self.lib.xmppfed_store_initialize_preview if preview else self.lib.xmppfed_store_initialize
        return self._call(fn, self.handle)

    def explain(self, domain, local=False):
        return self._call(self.lib.xmppfed_partner_explain, self.handle, domain.encode(), local)

    def history(self, **query):
        return self._call(self.lib.xmppfed_store_history, self.handle, json.dumps(query).encode() if query else None)

    def export(self, format="Json", filter=None, local=False):
        return self._text(self.lib.xmppfed_store_export, self.handle, format.encode(), filter.encode() if filter else None, local)

    def import_(self, text, preview=False, **options):
        fn = self.lib.xmppfed_store_import_preview if preview else self.lib.xmppfed_store_import
        return self._call(fn, self.handle, text.encode(), json.dumps(options).encode() if options else None)


class Pages:
    """A list being read page by page; `count`: its partners in all. Holds its own snapshot: it may
    outlive its Store."""

    def __init__(self, lib, handle, count, check):
        self.lib, self.handle, self.count, self._check = lib, handle, count, check

    def next(self):
        """The next page, copied (the library's is valid until the next call only), or None after
        the last: the library's NULL, whose length must be 0."""
        unset = ctypes.c_uint8(7)
        page, size = ctypes.POINTER(ctypes.c_uint8)(unset), ctypes.c_size_t(1234)
        self._check(self.lib.xmppfed_partner_pages_next(self.handle, ctypes.byref(page), ctypes.byref(size)))
        if not page:
            if size.value != 0:
                raise ValueError(f"the end with a length of {size.value}")
            return None
        if ctypes.addressof(page.contents) == ctypes.addressof(unset):
            raise ValueError("no page written")
        return ctypes.string_at(page, size.value)

    def free(self):
        self.lib.xmppfed_partner_pages_free(self.handle)
        self.handle = None

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.free()


class LibraryTest(unittest.TestCase):
    def test_abi_version(self):
        self.assertEqual(load().xmppfed_abi_version(), 3)


class CtypesAbiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lib = load()

    kind = "Folder"

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.central_store, self.replica = self.central(), os.path.join(self.tmp.name, "replica")
        self.store = Store(self.lib, self.central_store, self.replica)

    def central(self):
        """A fresh, empty central store."""
        central = os.path.join(self.tmp.name, "central")
        os.mkdir(central)
        return central

    def tearDown(self):
        self.store.close()
        self.tmp.cleanup()

    def test_initialize_creates_nothing_when_previewed_then_finds_the_store_current(self):
        created = {"Folder": "Current", "PostgreSQL": "Created"}[self.kind]  # an empty folder exists already
        preview = self.store.initialize(preview=True)
        self.assertEqual((preview["Kind"], preview["Action"]), (self.kind, created))
        self.assertEqual(self.store.initialize(preview=True)["Action"], created)
        self.assertEqual(self.store.initialize()["Action"], created)
        self.assertEqual(self.store.initialize()["Action"], "Current")
        self.assertEqual(self.store.new(Identity="contoso.com")["Partner"]["Revision"], 1)

    def test_new_applies_defaults_and_returns_warnings(self):
        outcome = self.store.new(Identity="Contoso.COM.", PartnerType="publicverified")
        partner = outcome["Partner"]
        self.assertEqual(partner["Identity"], "contoso.com")
        self.assertEqual(partner["PartnerType"], "PublicVerified")
        self.assertEqual(partner["ConnectionLimit"], 20)
        # The defaults are the warned combination "dialback not used", but nobody chose them here.
        self.assertEqual(outcome["Warnings"], [])
        chosen = self.store.new(Identity="chosen.example", SupportDialbackNegotiation=True)
        self.assertEqual([w["Id"] for w in chosen["Warnings"]], ["DialbackNotUsed"])

    def test_seed_examples_and_filters(self):
        self.store.new(Identity="contoso.com", PartnerType="PublicVerified")
        self.store.new(Identity="fabrikam.com", AdditionalDomains="research.fabrikam2.com")
        self.store.new(Identity="jabber.org")
        self.assertEqual(self.store.get("fabrikam.com")["AdditionalDomains"], ["research.fabrikam2.com"])
        self.assertEqual([p["Identity"] for p in self.store.list()], ["contoso.com", "fabrikam.com", "jabber.org"])
        self.assertEqual([p["Identity"] for p in self.store.list("*.org")], ["jabber.org"])
        self.assertEqual([p["Identity"] for p in self.store.list(local=True)], ["contoso.com", "fabrikam.com", "jabber.org"])

    def test_list_modifiers(self):
        self.store.new(Identity="contoso.com", AdditionalDomains=["europe.contoso2.com"])
        self.store.set("contoso.com", AdditionalDomains={"Add": "na.contoso2.com"})
        self.store.set("contoso.com", AdditionalDomains={"remove": "europe.contoso2.com"})
        self.assertEqual(self.store.get("contoso.com")["AdditionalDomains"], ["na.contoso2.com"])
        self.store.set("contoso.com", AdditionalDomains=None)
        self.assertEqual(self.store.get("contoso.com")["AdditionalDomains"], [])

    def test_errors_carry_stable_names_and_facts(self):
        self.store.new(Identity="fabrikam.com", AdditionalDomains="research.fabrikam2.com")
        cases = [
            (lambda: self.store.new(Identity="fabrikam.com"), ALREADY_EXISTS, "fabrikam.com"),
            (lambda: self.store.new(Identity="research.fabrikam2.com"), DOMAIN_CONFLICT, "research.fabrikam2.com"),
            (lambda: self.store.new(Identity="bad..com"), INVALID_DOMAIN, "bad..com"),
            (lambda: self.store.new(Identity="x.com", SupportDialbackNegotiation=False, TlsNegotiation="NotSupported"), INVALID_NEGOTIATION, "x.com"),
            (lambda: self.store.get("missing.com"), NOT_FOUND, "missing.com"),
            (lambda: self.store.set("fabrikam.com", AdditionalDomains={"Append": "x.com"}), INVALID_VALUE, "Append"),
        ]
        for call, code, fact in cases:
            with self.assertRaises(XmppFedError) as caught:
                call()
            self.assertEqual(caught.exception.code, code, str(caught.exception))
            self.assertIn(fact, str(caught.exception))

    def test_stale_instances_are_refused(self):
        self.store.new(Identity="contoso.com")
        copy = self.store.get("contoso.com")
        self.store.set("contoso.com", Description="changed elsewhere")
        copy["Description"] = "mine"
        with self.assertRaises(XmppFedError) as caught:
            self.store.set_instance(copy)
        self.assertEqual(caught.exception.code, STALE_INSTANCE)
        self.assertEqual(self.store.set_instance(copy, force=True)["Partner"]["Description"], "mine")

    def test_remove_returns_the_partner(self):
        self.store.new(Identity="contoso.com")
        outcome = self.store.remove("contoso.com")
        self.assertEqual(outcome["Partner"]["Identity"], "contoso.com")
        self.assertEqual(outcome["Warnings"], [])
        self.assertEqual(self.store.list(), [])

    def test_explain_a_remote_domain(self):
        self.store.new(Identity="contoso.com")
        self.store.new(Identity="fabrikam.com", AdditionalDomains="research.fabrikam2.com", TlsNegotiation="Optional", SaslNegotiation="Optional")
        self.store.new(Identity="bücher.example")
        allowed = self.store.explain("Research.Fabrikam2.com.")
        self.assertEqual((allowed["Domain"], allowed["Allowed"], allowed["Partner"], allowed["CoveredAs"]),
                         ("research.fabrikam2.com", True, "fabrikam.com", "AdditionalDomain"))
        self.assertEqual(allowed["Methods"], ["SaslOverTls", "TlsDialback", "TcpDialback"])
        self.assertEqual([w["Id"] for w in allowed["Warnings"]], ["SaslWithoutRequiredTls"])
        self.assertEqual(self.store.explain("xn--bcher-kva.example", local=True)["Partner"], "bücher.example")
        near = self.store.explain("chat.contoso.com")
        self.assertEqual((near["Allowed"], near["Partner"], near["Methods"]), (False, None, []))
        self.assertEqual([(h["Id"], h["Partner"], h["Fix"]) for h in near["Hints"]],
                         [("SubdomainOfPartnerDomain", "contoso.com", "Set-CsXmppAllowedPartner -Identity contoso.com -AdditionalDomains @{Add='chat.contoso.com'}")])
        with self.assertRaises(XmppFedError) as caught:
            self.store.explain("not a domain")
        self.assertEqual(caught.exception.code, INVALID_DOMAIN)
        self.assertIn("Domain 'not a domain' is not a valid domain", str(caught.exception))

    def test_export_then_import_changes_nothing(self):
        self.store.new(Identity="contoso.com", Description='a "quoted", text; with separators')
        self.store.new(Identity="fabrikam.com", AdditionalDomains=["research.fabrikam2.com", "eu.fabrikam2.com"], ConnectionLimit=5)
        self.store.new(Identity="bücher.example", PartnerType="Federated")
        revision = self.store.history(First=1)[0]["Revision"]
        for format in ("Json", "Csv"):
            text = self.store.export(format)
            self.assertNotIn("Revision", text)
            plan = self.store.import_(text, Format=format.lower(), RemoveMissing=True)
            self.assertEqual(plan["Unchanged"], ["bücher.example", "contoso.com", "fabrikam.com"])
            self.assertEqual((plan["Added"], plan["Changed"], plan["Removed"], plan["Rejected"]), ([], [], [], []))
            self.assertIsNone(plan["CommittedRevision"])
            self.assertEqual(self.store.export(format), text)
        self.assertEqual(json.loads(self.store.export()), [{k: v for k, v in p.items() if k != "Revision"} for p in self.store.list()])
        self.assertEqual(self.store.history(First=1)[0]["Revision"], revision, "an import with nothing to change commits nothing")
        with self.assertRaises(XmppFedError) as caught:
            self.store.export("xml")
        self.assertEqual(caught.exception.code, INVALID_VALUE)
        self.assertIn("Format", str(caught.exception))

    def test_import_is_one_commit_with_one_history_entry_per_partner(self):
        for identity in ("keep.example", "change.example", "drop.example"):
            self.store.new(Identity=identity)
        items = [{"Identity": "keep.example"}, {"Identity": "change.example", "Description": "imported"}] + \
                [{"Identity": f"new{i}.example", "ConnectionLimit": str(i + 1)} for i in range(20)]
        preview = self.store.import_(json.dumps(items), preview=True, RemoveMissing=True)
        self.assertIsNone(preview["CommittedRevision"])
        self.assertEqual(self.store.list("new*"), [])
        plan = self.store.import_(json.dumps(items), RemoveMissing=True, ExpectedRevision=preview["BaseRevision"])
        committed = plan["CommittedRevision"]
        self.assertEqual(committed, preview["BaseRevision"] + 1)
        self.assertEqual((len(plan["Added"]), [c["Identity"] for c in plan["Changed"]], [p["Identity"] for p in plan["Removed"]]),
                         (20, ["change.example"], ["drop.example"]))
        self.assertEqual(plan["Changed"][0]["Changes"], [{"Property": "Description", "Old": "", "New": "imported"}])
        partners = {p["Identity"]: p for p in self.store.list()}
        self.assertNotIn("drop.example", partners)
        self.assertEqual({i for i, p in partners.items() if p["Revision"] == committed}, set(partners) - {"keep.example"})
        self.assertEqual(partners["new7.example"]["ConnectionLimit"], 8)
        entries = [e for e in self.store.history() if e["Revision"] == committed]
        self.assertEqual(len(entries), 22)
        self.assertEqual({e["Operation"] for e in entries}, {"Import"})
        dropped = self.store.history(Identity="drop.example", First=1)[0]
        self.assertEqual((dropped["Before"]["Identity"], dropped["After"]), ("drop.example", None))

    def test_import_with_a_rejected_item_changes_nothing(self):
        self.store.new(Identity="contoso.com", AdditionalDomains="chat.contoso.com")
        before, history = self.store.export(), self.store.history()
        items = [{"Identity": "new.example"}, {"Identity": "grab.example", "AdditionalDomains": ["chat.contoso.com"]},
                 {"Identity": "bad..example"}]
        for remove_missing in (False, True):
            with self.assertRaises(XmppFedError) as caught:
                self.store.import_(json.dumps(items), RemoveMissing=remove_missing)
            self.assertEqual(caught.exception.code, IMPORT_REJECTED)
            self.assertIn("nothing was imported", str(caught.exception))
        self.assertEqual((self.store.export(), self.store.history()), (before, history))
        rejected = self.store.import_(json.dumps(items), preview=True)["Rejected"]
        self.assertEqual([(r["Position"], r["Identity"], r["ErrorId"]) for r in rejected],
                         [(2, "grab.example", "DomainConflict"), (3, "bad..example", "InvalidDomain")])
        csv_rejected = self.store.import_("Identity,EnableKeepAlive\nok.example,true\nno.example,maybe\n", preview=True, Format="Csv")["Rejected"]
        self.assertEqual([(r["Position"], r["Identity"], r["ErrorId"]) for r in csv_rejected], [(3, "no.example", "InvalidValue")])

    def test_import_refused_when_the_store_changed(self):
        self.store.new(Identity="contoso.com")
        base = self.store.import_('[{"Identity":"late.example"}]', preview=True)["BaseRevision"]
        self.store.set("contoso.com", Description="meanwhile")
        with self.assertRaises(XmppFedError) as caught:
            self.store.import_('[{"Identity":"late.example"}]', ExpectedRevision=base)
        self.assertEqual(caught.exception.code, STORE_CHANGED)
        self.assertEqual([p["Identity"] for p in self.store.list()], ["contoso.com"])

    def test_history_of_new_set_remove_with_filters(self):
        self.store.new(Identity="contoso.com")
        self.store.set("contoso.com", ConnectionLimit=7, EnableKeepAlive=False)
        self.store.new(Identity="fabrikam.com")
        self.store.remove("contoso.com")
        entries = self.store.history(Identity="CONTOSO.*")
        self.assertEqual([e["Operation"] for e in entries], ["Remove", "Set", "Create"])
        self.assertEqual([e["Revision"] for e in entries], [4, 2, 1])
        self.assertEqual(entries[1]["Changes"], [{"Property": "EnableKeepAlive", "Old": "true", "New": "false"},
                                                 {"Property": "ConnectionLimit", "Old": "20", "New": "7"}])
        self.assertEqual((entries[1]["Before"]["Revision"], entries[1]["After"]["Revision"]), (1, 2))
        self.assertEqual((entries[0]["After"], entries[2]["Before"]), (None, None))
        self.assertEqual({(e["User"], e["Machine"]) for e in entries}, {(pwd.getpwuid(os.geteuid()).pw_name, socket.gethostname())})
        self.assertEqual([e["Identity"] for e in self.store.history(First=2)], ["contoso.com", "fabrikam.com"])
        self.assertEqual(len(self.store.history(After="2000-01-01T00:00:00Z", Before="2999-01-01T01:00:00+01:00")), 4)
        self.assertEqual(self.store.history(Before="2000-01-01T00:00:00Z"), [])
        cases = [({"After": "tomorrow"}, INVALID_VALUE, "After"), ({"Before": "2026-02-30"}, INVALID_VALUE, "Before"),
                 ({"Identity": "[abc"}, INVALID_FILTER, "[abc"), ({"Last": 3}, JSON_SHAPE, "Last")]
        for query, code, fact in cases:
            with self.assertRaises(XmppFedError) as caught:
                self.store.history(**query)
            self.assertEqual(caught.exception.code, code, str(caught.exception))
            self.assertIn(fact, str(caught.exception))

    def read_pages(self, pages, read=None, limit=None):
        """Reads `pages` to their end (or `limit` more pages) into `read` (the pages read from them
        before), and returns it. Each page is records of their own, of one partner at least, and ends
        with the record that takes it to PAGE_BYTES; every page but the last reaches it; at the end
        the page is NULL with a length of 0, again on another call; the pages' counts add up to the
        list's."""
        read = [] if read is None else read
        counted, taken = sum(struct.unpack_from("<I", page, 4)[0] for page in read), 0
        while limit is None or taken < limit:
            taken += 1
            page = pages.next()
            if page is None:
                self.assertIsNone(pages.next(), "the end stays the end")
                self.assertEqual(counted, pages.count, "the pages' counts add up to the list's")
                break
            self.assertLess(counted, pages.count, "a page after every partner was read")
            if read:
                self.assertGreaterEqual(len(read[-1]), PAGE_BYTES, "a page followed by another reaches PAGE_BYTES")
            starts = []
            partners = decode_records(page, starts)
            self.assertGreaterEqual(len(partners), 1)
            self.assertLess(starts[-1], PAGE_BYTES, "a page ends with the record that reaches PAGE_BYTES")
            counted += len(partners)
            read.append(page)
        return read

    def paged(self, filter=None, local=False):
        """A list call's pages read to their end (and freed): (count, pages)."""
        with self.store.list_pages(filter, local) as pages:
            return pages.count, self.read_pages(pages)

    def test_list_pages_decode_to_the_json_list(self):
        self.assertEqual(self.paged(), (0, []))
        self.assertEqual(joined([]), b"\x01\x00\x00\x00\x00\x00\x00\x00")
        self.store.new(Identity="A.Records.ORG.", AdditionalDomains=["y.records.net", "chat.a.records.org", "X.Records.NET."],
                       Description='Café — 😀 "q" \\ tab\tline\nend', ProxyFqdn="Proxy.Records.NET", PartnerType="Federated",
                       TlsNegotiation="Required", SaslNegotiation="Optional", SupportDialbackNegotiation=False,
                       EnableKeepAlive=True, ConnectionLimit=1)
        self.store.new(Identity="BÜCHER.records.net", PartnerType="PublicVerified", TlsNegotiation="Optional",
                       SaslNegotiation="NotSupported", SupportDialbackNegotiation=True, EnableKeepAlive=False,
                       ConnectionLimit=0x01020304)
        self.store.new(Domain="C.Records.COM", AdditionalDomains=["only.records.com"], PartnerType="PublicUnverified",
                       TlsNegotiation="NotSupported", SaslNegotiation="Required", ConnectionLimit=2**32 - 1)
        self.store.new(Identity="d.records.org", Description="é" * 300, TlsNegotiation="Optional",
                       SupportDialbackNegotiation=False, EnableKeepAlive=False)
        self.store.set("c.records.com", Description="after set")

        count, pages = self.paged()
        self.assertEqual((count, len(pages)), (4, 1), "four partners are one page")
        records = decode_records(pages[0])
        self.assertEqual(joined(pages), pages[0])
        self.assertEqual(records, self.store.list())
        self.assertEqual([p["Identity"] for p in records], ["a.records.org", "bücher.records.net", "c.records.com", "d.records.org"])
        a = records[0]
        self.assertEqual((a["AdditionalDomains"], a["Description"], a["ProxyFqdn"]),
                         (["y.records.net", "chat.a.records.org", "x.records.net"], 'Café — 😀 "q" \\ tab\tline\nend', "proxy.records.net"))
        self.assertEqual((records[1]["ConnectionLimit"], records[2]["ConnectionLimit"]), (0x01020304, 2**32 - 1))
        self.assertEqual((records[2]["Description"], records[2]["Revision"]), ("after set", 5))
        self.assertEqual([p["Revision"] for p in records], [1, 2, 5, 4])
        self.assertEqual({p["PartnerType"] for p in records}, set(PARTNER_TYPES))
        self.assertEqual({p["TlsNegotiation"] for p in records}, set(NEGOTIATIONS))
        self.assertEqual({p["SaslNegotiation"] for p in records}, set(NEGOTIATIONS))
        self.assertEqual({(p["SupportDialbackNegotiation"], p["EnableKeepAlive"]) for p in records},
                         {(False, False), (False, True), (True, False), (True, True)})
        for local in (False, True):
            for filter in (None, "*.org", "BÜ*", "?.RECORDS.*", "[cd]*", "nothing*"):
                with self.subTest(filter=filter, local=local):
                    count, pages = self.paged(filter, local)
                    listed = self.store.list(filter, local)
                    self.assertEqual(decode_records(joined(pages)), listed)
                    self.assertEqual(count, len(listed))
                    if filter == "nothing*":
                        self.assertEqual(pages, [])

        # Failures: the JSON list's code and message, and the out pointers untouched (as every output).
        def pages_call(store, filter, local=False):
            pages, count = ctypes.c_void_p(1234), ctypes.c_size_t(1234)
            code = self.lib.xmppfed_partner_list_pages(store, filter, local, ctypes.byref(pages), ctypes.byref(count))
            if code == OK:
                self.lib.xmppfed_partner_pages_free(pages)
            return code, pages.value, count.value

        for filter in ("[abc", "[z-a]*"):
            for local in (False, True):
                with self.assertRaises(XmppFedError) as caught:
                    self.store.list(filter, local)
                self.assertEqual(caught.exception.code, INVALID_FILTER)
                self.assertEqual(pages_call(self.store.handle, filter.encode(), local), (INVALID_FILTER, 1234, 1234))
                self.assertEqual(str(caught.exception), "InvalidFilter: " + self.lib.xmppfed_last_error_message().decode())
                self.assertIn(filter, self.lib.xmppfed_last_error_message().decode())
        self.assertEqual(pages_call(None, None), (NULL_ARGUMENT, 1234, 1234))
        self.assertEqual(pages_call(self.store.handle, b"\xff\xfe"), (INVALID_UTF8, 1234, 1234))
        self.assertEqual(self.lib.xmppfed_partner_list(self.store.handle, None, False, None), NULL_ARGUMENT)
        pages, count = ctypes.c_void_p(1234), ctypes.c_size_t(1234)
        self.assertEqual(self.lib.xmppfed_partner_list_pages(self.store.handle, None, False, None, ctypes.byref(count)), NULL_ARGUMENT)
        self.assertEqual(self.lib.xmppfed_partner_list_pages(self.store.handle, None, False, ctypes.byref(pages), None), NULL_ARGUMENT)
        self.assertEqual((pages.value, count.value), (1234, 1234))
        self.assertEqual(self.lib.xmppfed_partner_list_pages(self.store.handle, None, False, None, None), NULL_ARGUMENT)

        # pages_next: NULL pages or a NULL out pointer is NullArgument, the other output untouched, and
        # takes no page: the pages read afterwards still hold the whole list.
        unset = ctypes.c_uint8(7)
        page, size = ctypes.POINTER(ctypes.c_uint8)(unset), ctypes.c_size_t(1234)
        self.assertEqual(self.lib.xmppfed_partner_pages_next(None, ctypes.byref(page), ctypes.byref(size)), NULL_ARGUMENT)
        self.assertIn("'pages'", self.lib.xmppfed_last_error_message().decode())
        with self.store.list_pages() as pages:
            self.assertEqual(self.lib.xmppfed_partner_pages_next(pages.handle, None, ctypes.byref(size)), NULL_ARGUMENT)
            self.assertEqual(self.lib.xmppfed_partner_pages_next(pages.handle, ctypes.byref(page), None), NULL_ARGUMENT)
            self.assertEqual(self.lib.xmppfed_partner_pages_next(pages.handle, None, None), NULL_ARGUMENT)
            self.assertEqual((ctypes.addressof(page.contents), size.value), (ctypes.addressof(unset), 1234))
            self.assertEqual(decode_records(joined(self.read_pages(pages))), self.store.list())
        self.lib.xmppfed_partner_pages_free(None)
        self.lib.xmppfed_bytes_free(None, 0)

    def test_pages_of_a_long_list(self):
        self.store.import_(json.dumps(long_list()))
        identities = ["h1.pages.example", "h2.pages.example"] + [f"p{i:03}.pages.example" for i in range(300)]
        for local in (False, True):
            with self.subTest(local=local):
                count, pages = self.paged(local=local)
                self.assertEqual(count, 302)
                # Each of the two large partners is a page of its own; the 300 small ones (about
                # 321 KB) take 5 more; every page but the last reaches PAGE_BYTES.
                self.assertGreaterEqual(len(pages), 2 + 5)
                self.assertEqual([struct.unpack_from("<I", page, 4)[0] for page in pages[:2]], [1, 1])
                self.assertGreater(min(len(page) for page in pages[:2]), PAGE_BYTES)
                self.assertEqual([len(page) for page in pages[:-1] if len(page) < PAGE_BYTES], [])
                partners = decode_records(joined(pages))
                self.assertEqual([p["Identity"] for p in partners], identities)
                self.assertEqual(partners, self.store.list(local=local))
                for filter in ("p*", "p1??.PAGES.example", "h?.pages.example"):
                    self.assertEqual(decode_records(joined(self.paged(filter, local)[1])), self.store.list(filter, local))

    def test_pages_are_a_snapshot_of_their_call(self):
        self.store.import_(json.dumps(long_list()))
        for local in (False, True):
            with self.subTest(local=local):
                before = self.store.list(local=local)
                added, removed = f"p150-{int(local)}.pages.example", f"p20{int(local)}.pages.example"
                # Commits after the call, before the first page and between pages, each in a page not
                # read yet (the first is h1's), centrally and in the replica (which each commit refreshes).
                with self.store.list_pages(local=local) as pages:
                    self.store.set("p299.pages.example", Description=f"changed after the list {int(local)}")
                    read = self.read_pages(pages, limit=1)
                    self.store.new(Identity=added)
                    self.store.remove(removed)
                    self.store.set("h2.pages.example", ConnectionLimit=3 + local)
                    self.store.set("p250.pages.example", ConnectionLimit=3 + local)
                    self.read_pages(pages, read)
                    self.assertEqual(pages.count, len(before))
                self.assertEqual(decode_records(joined(read)), before)
                after = self.store.list(local=local)
                self.assertNotEqual(after, before)
                self.assertIn(added, [p["Identity"] for p in after])
                self.assertNotIn(removed, [p["Identity"] for p in after])

    def test_pages_outlive_their_store(self):
        self.store.import_(json.dumps(long_list()))
        other = Store(self.lib, self.central_store, self.replica)
        central, local, freed = other.list_pages(), other.list_pages("p*", local=True), other.list_pages()
        try:
            read = self.read_pages(central, limit=2)
            self.read_pages(freed, limit=1)
            freed.free()  # before its end
            other.close()
            self.assertEqual(decode_records(joined(self.read_pages(central, read))), self.store.list())
            self.assertEqual(decode_records(joined(self.read_pages(local))), self.store.list("p*", local=True))
        finally:
            for pages in (central, local, freed):
                pages.free()

    def test_null_and_invalid_utf8_arguments(self):
        out = ctypes.c_void_p(1234)
        self.assertEqual(self.lib.xmppfed_partner_get(self.store.handle, None, False, ctypes.byref(out)), NULL_ARGUMENT)
        self.assertEqual(self.lib.xmppfed_partner_get(self.store.handle, b"\xff\xfe.com", False, ctypes.byref(out)), INVALID_UTF8)
        self.assertEqual(out.value, 1234, "outputs are untouched on failure")



def psql(conninfo, sql):
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", conninfo, "-c", sql], check=True, capture_output=True)


class CtypesAbiPostgresTest(CtypesAbiTest):
    """The same tests against a PostgreSQL central store: a fresh schema of the test cluster."""

    kind = "PostgreSQL"

    def central(self):
        server = os.environ.get("XMPPFED_TEST_POSTGRES")
        if not server:
            self.fail("XMPPFED_TEST_POSTGRES is not set: run these tests through scripts/test.sh, or start a cluster "
                      "with `source scripts/lib.sh; source scripts/postgres.sh; pg_start`")
        self.schema = "py_" + uuid.uuid4().hex[:16]
        psql(server, f"CREATE SCHEMA {self.schema}")
        self.addCleanup(psql, server, f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")
        return f"{server} options='-c search_path={self.schema}'"

    def test_the_store_is_named_without_its_password(self):
        password = os.environ["XMPPFED_TEST_POSTGRES"].split("password=")[1].split()[0]
        result = self.store.initialize()
        self.assertTrue(result["CentralStore"].startswith("postgresql://"), result)
        self.assertNotIn(password, json.dumps(result))


if __name__ == "__main__":
    unittest.main()
