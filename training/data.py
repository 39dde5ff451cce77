# ruff: noqa: E501  (templates are long lines by nature)
"""Synthetic, labelled training and evaluation text for the PII tagger.

Every example is built from a template (chat prompt, support ticket, email, HR or medical note,
letter, CRM record as JSON/CSV/YAML/XML/SQL, code, log ...) whose slots are filled by Faker in one
of many locales. Slots carry their label, so the character spans are exact by construction.

Held out, never used for training:
* templates: every template whose index in its domain list is ``HELDOUT_INDEX`` mod 5, plus the
  structured formats in ``HELDOUT_FORMATS``;
* locales: ``HELDOUT_LOCALES`` (names, addresses and the other values of these countries).

Hard negatives (no label) are mixed in: code identifiers, product and brand names, places that are
not addresses, dates that are not birth dates, order numbers, versions, capitalised common words
and job titles.

    .venv/bin/python -m training.data --split train --n 5 --seed 1   # print examples
"""

from __future__ import annotations

import argparse
import json
import random
import re
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from faker import Faker

RECIPE_VERSION = "2025.4"  # .4: stand-ins for sure pattern spans (training/train.py)

FREE_TEXT_TYPES = (
    "GIVEN_NAME",
    "SURNAME",
    "STREET",
    "SECONDARY_ADDRESS",
    "CITY",
    "STATE",
    "POSTAL_CODE",
    "COUNTRY",
    "DATE_OF_BIRTH",
    "AGE",
    "COMPANY",
    "USERNAME",
    "PASSWORD",
)
STRUCTURED_TYPES = (
    "EMAIL",
    "PHONE",
    "URL",
    "IP_ADDRESS",
    "CREDIT_CARD",
    "IBAN",
    "SSN",
    "NATIONAL_ID",
    "PASSPORT",
    "DRIVER_LICENSE",
)
TYPES = FREE_TEXT_TYPES + STRUCTURED_TYPES
LABELS = ["O"] + [f"{p}-{t}" for t in TYPES for p in ("B", "I")]

# The seven locales the product must handle, then locales that only add variety to names and
# addresses. The held-out locales are never seen in training.
CORE_LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL")
EXTRA_LOCALES = (
    "en_IE", "en_AU", "en_CA", "en_IN", "de_AT", "de_CH", "fr_CH", "fr_CA", "es_MX", "nl_BE",
    "pt_BR", "pt_PT", "da_DK", "fi_FI", "no_NO", "cs_CZ", "hr_HR", "tr_TR", "ro_RO", "hu_HU",
    "sl_SI", "id_ID", "sk_SK",
)  # fmt: skip
HELDOUT_LOCALES = ("pl_PL", "sv_SE")
HELDOUT_INDEX = 2
HELDOUT_FORMATS = ("xml", "sql")

LANG = {
    "de": ("de_DE", "de_AT", "de_CH"),
    "fr": ("fr_FR", "fr_CH", "fr_CA"),
    "es": ("es_ES", "es_MX"),
    "it": ("it_IT",),
    "nl": ("nl_NL", "nl_BE"),
}

MONTHS = {
    "en": "January February March April May June July August September October November December",
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
    "it": "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre "
    "dicembre",
    "nl": "januari februari maart april mei juni juli augustus september oktober november december",
    "pl": "stycznia lutego marca kwietnia maja czerwca lipca sierpnia września października "
    "listopada grudnia",
    "sv": "januari februari mars april maj juni juli augusti september oktober november december",
    "pt": "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro dezembro",
}

TITLES = {
    "en": ["Mr.", "Mrs.", "Ms.", "Ms", "Mr", "Dr.", "Prof.", "Miss"],
    "de": ["Herr", "Frau", "Dr.", "Prof. Dr."],
    "fr": ["M.", "Mme", "Madame", "Monsieur", "Dr"],
    "es": ["Sr.", "Sra.", "D.", "Dña.", "Dr."],
    "it": ["Sig.", "Sig.ra", "Dott.", "Dott.ssa", "Avv."],
    "nl": ["Dhr.", "Mevr.", "mevrouw", "meneer", "Dr."],
    "pl": ["Pan", "Pani", "dr"],
    "sv": ["Herr", "Fru", "Dr."],
    "pt": ["Sr.", "Sra.", "Dr."],
}

SECONDARY = {
    "en": ["Apt {n}", "Apt. {n}", "Suite {n}", "Unit {n}", "Flat {n}", "Floor {n}", "#{n}",
           "Room {n}", "Building {L}", "Apartment {n}"],
    "de": ["Wohnung {n}", "{n}. OG", "Hinterhaus", "App. {n}", "c/o Büro {n}", "Etage {n}"],
    "fr": ["Appartement {n}", "Bât. {L}", "Apt {n}", "Étage {n}", "Escalier {L}"],
    "es": ["Piso {n}", "{n}º {L}", "Puerta {n}", "Planta {n}", "Esc. {L}"],
    "it": ["Interno {n}", "Scala {L}", "Piano {n}", "Int. {n}"],
    "nl": ["bus {n}", "{n}-hoog", "app. {n}", "Unit {n}"],
    "pl": ["m. {n}", "lok. {n}", "kl. {L}"],
    "sv": ["lgh {n}", "vån {n}", "Lägenhet {n}"],
    "pt": ["Apto {n}", "Bloco {L}", "{n}º Esq.", "Sala {n}"],
}  # fmt: skip

SECONDARY_INSIDE = re.compile(
    r"\s+((?:Apt\.|Suite|Piso|Piano|Interior|Puerta|Unit|Flat|Appartamento|Interno) .*)$"
)


def lang_of(locale: str) -> str:
    return locale.split("_")[0] if locale.split("_")[0] in MONTHS else "en"


# ---------------------------------------------------------------------------------------------
# Values


@dataclass
class Seg:
    """A piece of text, labelled with an entity type or None."""

    text: str
    label: str | None = None


def segs(*parts: Seg | str) -> list[Seg]:
    return [p if isinstance(p, Seg) else Seg(p) for p in parts]


class Person:
    """One person of one locale; each field is drawn once so a template can repeat it."""

    def __init__(self, fake: Faker, rng: random.Random, locale: str) -> None:
        self.fake, self.rng, self.locale, self.lang = fake, rng, locale, lang_of(locale)
        self._cache: dict[str, object] = {}

    def _once(self, key: str, make: Callable[[], object]) -> object:
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    # names ---------------------------------------------------------------------------------
    def given(self) -> str:
        return self._once("given", self._make_given)  # type: ignore[return-value]

    def _make_given(self) -> str:
        r = self.rng.random()
        if self.locale == "ja_JP":
            return self.fake.first_romanized_name()
        g = self.fake.first_name()
        if r < 0.05:
            g = f"{g}-{self.fake.first_name()}"
        return g

    def surname(self) -> str:
        return self._once("surname", self._make_surname)  # type: ignore[return-value]

    def _make_surname(self) -> str:
        if self.locale == "ja_JP":
            return self.fake.last_romanized_name()
        s = self.fake.last_name()
        if self.rng.random() < 0.06:
            s = f"{s}-{self.fake.last_name()}"
        return s

    def middle(self) -> str:
        return self._once("middle", lambda: self.fake.first_name())  # type: ignore[return-value]

    def title(self) -> str:
        return self._once("title", lambda: self.rng.choice(TITLES[self.lang]))  # type: ignore

    def name(self) -> list[Seg]:
        """The full name in one of several shapes."""
        r = self.rng.random()
        g, s = Seg(self.given(), "GIVEN_NAME"), Seg(self.surname(), "SURNAME")
        if r < 0.72:
            return [g, Seg(" "), s]
        if r < 0.80:
            return [g, Seg(" "), Seg(self.middle(), "GIVEN_NAME"), Seg(" "), s]
        if r < 0.86:
            initial = self.middle()[0] + ("." if self.rng.random() < 0.5 else "")
            return [g, Seg(" "), Seg(initial, "GIVEN_NAME"), Seg(" "), s]
        if r < 0.90:
            return [Seg(self.given()[0] + ".", "GIVEN_NAME"), Seg(" "), s]
        if r < 0.95:
            return [Seg(self.title() + " "), g, Seg(" "), s]
        return [
            Seg(self.given().upper(), "GIVEN_NAME"),
            Seg(" "),
            Seg(self.surname().upper(), "SURNAME"),
        ]

    def name_inverted(self) -> list[Seg]:
        return [Seg(self.surname(), "SURNAME"), Seg(", "), Seg(self.given(), "GIVEN_NAME")]

    def formal(self) -> list[Seg]:
        return [Seg(self.title() + " "), Seg(self.surname(), "SURNAME")]

    # contact -------------------------------------------------------------------------------
    def email(self) -> str:
        def make() -> str:
            user = (
                ascii_slug(self.given())
                + self.rng.choice([".", "_", "", "."])
                + ascii_slug(self.surname())
            )
            if self.rng.random() < 0.3:
                user += str(self.rng.randint(1, 99))
            if self.rng.random() < 0.25:
                return self.fake.email()
            return f"{user}@{self.fake.free_email_domain()}"

        return self._once("email", make)  # type: ignore[return-value]

    def phone(self) -> str:
        return self._once("phone", self.fake.phone_number)  # type: ignore[return-value]

    def username(self) -> str:
        def make() -> str:
            r = self.rng.random()
            g, s = ascii_slug(self.given()), ascii_slug(self.surname())
            if r < 0.3:
                return self.fake.user_name()
            if r < 0.5:
                return g[0] + s + str(self.rng.randint(1, 999))
            if r < 0.65:
                return f"{g}.{s}"
            if r < 0.8:
                return (
                    self.rng.choice(NICK_WORDS)
                    + self.rng.choice(["_", "", "-"])
                    + (self.rng.choice(NICK_WORDS) + str(self.rng.randint(0, 99)))
                )
            return s + g[:2] + str(self.rng.randint(10, 9999))

        return self._once("username", make)  # type: ignore[return-value]

    def password(self) -> str:
        def make() -> str:
            r = self.rng.random()
            if r < 0.45:
                return self.fake.password(
                    length=self.rng.randint(8, 18), special_chars=self.rng.random() < 0.7
                )
            if r < 0.75:
                return (
                    self.rng.choice(PASSWORD_WORDS).capitalize()
                    + str(self.rng.randint(1, 2025))
                    + self.rng.choice(["!", "?", "#", "$", "", "*"])
                )
            return "".join(
                self.rng.choice(string.ascii_letters + string.digits + "!@#$%&*")
                for _ in range(self.rng.randint(8, 16))
            )

        return self._once("password", make)  # type: ignore[return-value]

    # address -------------------------------------------------------------------------------
    def street(self) -> str:
        def make() -> str:
            s = self.fake.street_address().replace("\n", " ").strip()
            m = SECONDARY_INSIDE.search(s)
            if m:
                s = s[: m.start()]
            if not any(c.isdigit() for c in s):
                s = (
                    f"{self.rng.randint(1, 140)} {s}"
                    if self.lang in ("fr", "en")
                    else f"{s} {self.rng.randint(1, 140)}"
                )
            return s

        return self._once("street", make)  # type: ignore[return-value]

    def secondary(self) -> str:
        def make() -> str:
            fmt = self.rng.choice(SECONDARY[self.lang])
            return fmt.format(n=self.rng.randint(1, 420), L=self.rng.choice("ABCDEFG"))

        return self._once("secondary", make)  # type: ignore[return-value]

    def city(self) -> str:
        return self._once("city", self.fake.city)  # type: ignore[return-value]

    def state(self) -> str:
        def make() -> str:
            if self.locale == "en_US" and self.rng.random() < 0.6:
                return self.fake.state_abbr()
            try:
                return self.fake.administrative_unit()
            except AttributeError:
                return self.fake.city()

        return self._once("state", make)  # type: ignore[return-value]

    def postcode(self) -> str:
        return self._once("postcode", self.fake.postcode)  # type: ignore[return-value]

    def country(self) -> str:
        def make() -> str:
            return self.rng.choice([COUNTRY_NAMES.get(self.locale, "USA"), self.fake.country()])

        return self._once("country", make)  # type: ignore[return-value]

    def address(self) -> list[Seg]:
        """A full postal address in the locale's usual layout."""
        st = Seg(self.street(), "STREET")
        sec = Seg(self.secondary(), "SECONDARY_ADDRESS")
        city, pc = Seg(self.city(), "CITY"), Seg(self.postcode(), "POSTAL_CODE")
        state, country = Seg(self.state(), "STATE"), Seg(self.country(), "COUNTRY")
        r = self.rng.random
        sep = "\n" if r() < 0.15 else ", "
        if self.locale == "en_US" and r() < 0.08:  # US military addresses
            kind = self.rng.choice(["PSC", "Unit", "USNS", "USS"])
            if kind in ("PSC", "Unit"):
                line = f"{kind} {self.rng.randint(1000, 9999)}, Box {self.rng.randint(1, 9999)}"
            else:
                line = f"{kind} {self.fake.last_name()}"
            return [
                Seg(line, "STREET"), Seg(sep), Seg(self.rng.choice(["APO", "FPO", "DPO"]), "CITY"),
                Seg(" "), Seg(self.rng.choice(["AA", "AE", "AP"]), "STATE"), Seg(" "), pc,
            ]  # fmt: skip
        out: list[Seg] = [st]
        if r() < 0.25:
            out += [Seg(", " if r() < 0.7 else " "), sec]
        if self.locale in ("en_US", "en_CA", "en_AU", "fr_CA", "es_MX", "en_IN"):
            out += [Seg(sep), city, Seg(", "), state, Seg(" "), pc]
        elif self.locale in ("en_GB", "en_IE"):
            out += [Seg(sep), city]
            if r() < 0.3:
                out += [Seg(sep), Seg(self.state(), "STATE")]
            out += [Seg(sep if r() < 0.5 else " "), pc]
        elif self.lang == "it":
            out += [Seg(sep), pc, Seg(" "), city]
            if r() < 0.5:
                out += [Seg(" ("), state, Seg(")")]
        elif self.lang == "es" and r() < 0.4:
            out += [Seg(sep), pc, Seg(" "), city, Seg(", "), state]
        else:
            out += [Seg(sep), pc, Seg(" "), city]
        if r() < 0.35:
            out += [Seg(sep if r() < 0.8 else " "), country]
        return out

    def address_lines(self) -> list[Seg]:
        """One part per line, as forms and signatures print them (country last, sometimes
        with the postcode after it)."""
        r = self.rng.random
        nl = self.rng.choice(["\n", "\n ", "\n  "])
        out: list[Seg] = [Seg(self.street(), "STREET")]
        if r() < 0.5:
            out += [Seg(nl), Seg(self.secondary(), "SECONDARY_ADDRESS")]
        out += [Seg(nl), Seg(self.city(), "CITY")]
        if r() < 0.4:
            out += [Seg(nl), Seg(self.state(), "STATE")]
        if r() < 0.5:
            out += [
                Seg(nl),
                Seg(self.country(), "COUNTRY"),
                Seg(" "),
                Seg(self.postcode(), "POSTAL_CODE"),
            ]
        else:
            out += [
                Seg(nl),
                Seg(self.postcode(), "POSTAL_CODE"),
                Seg(nl),
                Seg(self.country(), "COUNTRY"),
            ]
        return out

    def city_line(self) -> list[Seg]:
        return [Seg(self.postcode(), "POSTAL_CODE"), Seg(" "), Seg(self.city(), "CITY")]

    # dates ---------------------------------------------------------------------------------
    def birth(self) -> date:
        return self._once(  # type: ignore[return-value]
            "birth", lambda: self.fake.date_of_birth(minimum_age=1, maximum_age=95)
        )

    def dob(self) -> str:
        return self._once("dob", lambda: format_date(self.birth(), self.lang, self.rng))  # type: ignore

    def age(self) -> str:
        return self._once("age", lambda: str(self.rng.randint(2, 97)))  # type: ignore

    # other ---------------------------------------------------------------------------------
    def company(self) -> str:
        return self._once("company", self.fake.company)  # type: ignore[return-value]

    def ssn(self) -> str:
        return self._once("ssn", lambda: US.ssn())  # type: ignore[return-value]

    def national_id(self) -> str:
        def make() -> str:
            try:
                return self.fake.ssn()
            except AttributeError:
                return US.ssn()

        return self._once("nid", make)  # type: ignore[return-value]

    def passport(self) -> str:
        def make() -> str:
            try:
                return self.fake.passport_number()
            except AttributeError:
                return US.passport_number()

        return self._once("passport", make)  # type: ignore[return-value]

    def driver_license(self) -> str:
        def make() -> str:
            r = self.rng
            shape = r.choice(["L#######", "L########", "LL######", "########", "L###-####-####"])
            return "".join(
                r.choice(string.ascii_uppercase) if c == "L" else str(r.randint(0, 9)) if c == "#"
                else c
                for c in shape
            )  # fmt: skip

        return self._once("dl", make)  # type: ignore[return-value]

    def iban(self) -> str:
        return self._once("iban", self.fake.iban)  # type: ignore[return-value]

    def card(self) -> str:
        def make() -> str:
            n = self.fake.credit_card_number()
            if self.rng.random() < 0.4 and len(n) == 16:
                sep = self.rng.choice([" ", "-"])
                n = sep.join(n[i : i + 4] for i in range(0, 16, 4))
            return n

        return self._once("card", make)  # type: ignore[return-value]

    def ip(self) -> str:
        return self._once(  # type: ignore[return-value]
            "ip", lambda: self.fake.ipv4() if self.rng.random() < 0.85 else self.fake.ipv6()
        )

    def url(self) -> str:
        def make() -> str:
            return self.rng.choice(
                [
                    f"https://www.linkedin.com/in/{ascii_slug(self.given())}-"
                    f"{ascii_slug(self.surname())}",
                    f"https://{ascii_slug(self.surname())}.{self.fake.tld()}",
                    self.fake.url(),
                ]
            )

        return self._once("url", make)  # type: ignore[return-value]


US = Faker("en_US")

COUNTRY_NAMES = {
    "en_US": "United States", "en_GB": "United Kingdom", "de_DE": "Deutschland",
    "fr_FR": "France", "es_ES": "España", "it_IT": "Italia", "nl_NL": "Nederland",
    "pl_PL": "Polska", "sv_SE": "Sverige", "en_IE": "Ireland", "en_AU": "Australia",
    "en_CA": "Canada", "de_AT": "Österreich", "de_CH": "Schweiz", "fr_CH": "Suisse",
    "fr_CA": "Canada", "es_MX": "México", "nl_BE": "België", "pt_BR": "Brasil",
    "pt_PT": "Portugal", "da_DK": "Danmark", "fi_FI": "Suomi", "no_NO": "Norge",
    "cs_CZ": "Česko", "hr_HR": "Hrvatska", "tr_TR": "Türkiye", "ro_RO": "România",
    "hu_HU": "Magyarország", "en_IN": "India",
}  # fmt: skip

NICK_WORDS = (
    "shadow dragon pixel ninja coder wolf star moon tiger rocket blue dark silent happy lucky "
    "ghost storm cyber byte frost viper nova zen panda falcon"
).split()
PASSWORD_WORDS = (
    "summer winter sunshine dragon monkey football welcome princess autumn letmein qwerty "
    "butterfly chocolate freedom liverpool barcelona bayern juventus ajax lapin soleil sommer"
).split()


def ascii_slug(s: str) -> str:
    import unicodedata

    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]", "", s) or "user"


def format_date(d: date, lang: str, rng: random.Random) -> str:
    months = MONTHS.get(lang, MONTHS["en"]).split()
    m = months[d.month - 1]
    r = rng.random()
    if lang == "en":
        fmts = [
            f"{d.month:02d}/{d.day:02d}/{d.year}", f"{d.month}/{d.day}/{d.year}",
            f"{m} {d.day}, {d.year}", f"{d.day} {m} {d.year}", f"{d.year}-{d.month:02d}-{d.day:02d}",
            f"{d.day:02d}/{d.month:02d}/{d.year}", f"{m[:3]} {d.day}, {d.year}",
            f"{d.day}{ordinal(d.day)} {m} {d.year}", f"{d.month:02d}-{d.day:02d}-{d.year}",
        ]  # fmt: skip
    elif lang in ("de", "pl"):
        fmts = [f"{d.day:02d}.{d.month:02d}.{d.year}", f"{d.day}. {m} {d.year}",
                f"{d.year}-{d.month:02d}-{d.day:02d}", f"{d.day}.{d.month}.{d.year}"]  # fmt: skip
    else:
        fmts = [f"{d.day:02d}/{d.month:02d}/{d.year}", f"{d.day} {m} {d.year}",
                f"{d.year}-{d.month:02d}-{d.day:02d}", f"{d.day:02d}-{d.month:02d}-{d.year}"]  # fmt: skip
        if lang == "es" or lang == "pt":
            fmts.append(f"{d.day} de {m} de {d.year}")
        if lang == "nl" or lang == "sv":
            fmts.append(f"{d.day:02d}-{d.month:02d}-{d.year}")
    return fmts[int(r * len(fmts))]


def ordinal(n: int) -> str:
    return "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


# ---------------------------------------------------------------------------------------------
# Hard negatives: unlabelled fillers


PRODUCTS = (
    "iPhone 15 Pro, MacBook Air, Galaxy S24, Kindle Paperwhite, PlayStation 5, Surface Laptop, "
    "ThinkPad X1 Carbon, Pixel 8, AirPods Pro, Apple Watch, Echo Dot, Model 3, Golf GTI, Corolla, "
    "Jira, Confluence, Slack, Microsoft Teams, Zoom, Salesforce, SAP S/4HANA, Postgres, Redis, "
    "Kubernetes, Docker Desktop, Terraform, GitHub Actions, Visual Studio Code, Photoshop, Excel, "
    "PowerPoint, Outlook, Gmail, Google Drive, Dropbox, Notion, Figma, Tableau, Snowflake, "
    "Kafka, Spark, Airflow, React, Django, Spring Boot, Node.js, TensorFlow, PyTorch, ChatGPT, "
    "Claude, Gemini, Copilot, Windows 11, macOS Sonoma, Ubuntu 22.04, Android 14, Chrome, Firefox"
).split(", ")
BRANDS = (
    "Apple, Microsoft, Google, Amazon, Tesla, Siemens, Bosch, Philips, Nestlé, Danone, Renault, "
    "Peugeot, Fiat, Ferrari, Zara, Mango, IKEA, Lidl, Aldi, Carrefour, Heineken, Adidas, Nike, "
    "Puma, Samsung, Sony, Nintendo, Spotify, Netflix, Uber, Airbnb, Booking.com, Deutsche Bahn, "
    "Air France, Lufthansa, Ryanair, KLM, Vodafone, Orange, Telefónica, BMW, Audi, Mercedes-Benz, "
    "Volvo, Ford, Toyota, Honda, Shell, BP, Unilever, Procter & Gamble, Coca-Cola, Starbucks"
).split(", ")
PLACES = (
    "Berlin, Paris, London, Madrid, Rome, Amsterdam, New York, Tokyo, Munich, Milan, Lyon, "
    "Barcelona, Rotterdam, Chicago, Dublin, Vienna, Zurich, Brussels, Lisbon, Singapore, Sydney, "
    "Toronto, Boston, Seattle, Frankfurt, Hamburg, Seville, Naples, Utrecht, Manchester"
).split(", ")
JOB_TITLES = (
    "Head of Sales, Senior Software Engineer, Product Manager, Chief Financial Officer, "
    "Data Scientist, Customer Success Lead, Nurse Practitioner, Account Executive, "
    "Regional Director, HR Business Partner, VP Engineering, Team Lead, Office Manager, "
    "General Practitioner, Head of Legal, Marketing Coordinator, Site Reliability Engineer"
).split(", ")
CAP_WORDS = (
    "Will, Grace, Mark, Rose, Bill, Frank, Hope, Faith, Joy, Victoria, Jordan, Austin, Paris, "
    "Chase, Lane, Drew, Page, Summer, April, May, June, Art, Sterling, Major, King, Price, Bush, "
    "Long, Young, Green, Black, White, Brown, Rich, Hunter, Carter, Baker, Miller, Cook"
).split(", ")
WORDS = (
    "order invoice user account session cart payment report customer product item price total "
    "config cache token request response handler service client server queue worker job task "
    "event message record batch file path index count limit offset status result error retry"
).split()


def code_ident(rng: random.Random) -> str:
    words = rng.sample(WORDS, rng.randint(1, 3))
    style = rng.random()
    if style < 0.35:
        return words[0] + "".join(w.capitalize() for w in words[1:])
    if style < 0.65:
        return "_".join(words)
    if style < 0.85:
        return "".join(w.capitalize() for w in words)
    return "_".join(words).upper()


def nb_date(rng: random.Random, lang: str) -> str:
    d = date(2019, 1, 1) + timedelta(days=rng.randint(0, 2500))
    return format_date(d, lang, rng)


def filler_values(rng: random.Random, lang: str) -> dict[str, str]:
    return {
        "product": rng.choice(PRODUCTS),
        "product2": rng.choice(PRODUCTS),
        "brand": rng.choice(BRANDS),
        "place": rng.choice(PLACES),
        "job": rng.choice(JOB_TITLES),
        "cap": rng.choice(CAP_WORDS),
        "date": nb_date(rng, lang),
        "date2": nb_date(rng, lang),
        "time": f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}",
        "ident": code_ident(rng),
        "ident2": code_ident(rng),
        "num": str(rng.randint(2, 9999)),
        "small": str(rng.randint(2, 60)),
        "pct": f"{rng.randint(1, 99)}%",
        "money": f"{rng.choice(['$', '€', '£'])}{rng.randint(5, 99999):,}.{rng.randint(0, 99):02d}",
        "order": rng.choice(["ORD", "INV", "PO", "TCK", "REQ", "CASE"])
        + f"-{rng.randint(2019, 2025)}-{rng.randint(1, 999999):06d}",
        "version": f"{rng.randint(0, 12)}.{rng.randint(0, 30)}.{rng.randint(0, 99)}",
        "hash": "".join(rng.choice("0123456789abcdef") for _ in range(rng.choice([7, 12, 40]))),
        "uuid": US.uuid4(),
        "http": rng.choice(["GET", "POST", "PUT", "DELETE"]) + " /api/v"
        + str(rng.randint(1, 3)) + "/" + rng.choice(WORDS) + "s/" + str(rng.randint(1, 99999)),
        "team": rng.choice(["Platform", "Growth", "Payments", "Search", "Billing", "Mobile"]),
    }  # fmt: skip


NEGATIVES_EN = [
    "The deploy of {version} to eu-west-1 finished at {time} UTC.",
    "We moved the standup from Slack huddles to {product}.",
    "{brand} announced the new {product} on {date}.",
    "Our {place} office is closed on {date} for the public holiday.",
    "Please review {order} before the quarterly close on {date}.",
    "The function {ident}() returns None when {ident2} is empty.",
    "Call {ident}.{ident2}() after the {product} client is initialised.",
    "Latency went from {small} ms to {num} ms after the {version} release.",
    "Revenue grew {pct} year over year; {brand} remains our largest partner.",
    "The {job} will present the roadmap at the offsite in {place}.",
    "{cap} is a reserved keyword in our DSL, so rename the field.",
    "Set {ident} to {num} in the config and restart the worker.",
    "Ticket {order} was closed as a duplicate on {date}.",
    "Our team uses {product}, {product2} and a lot of coffee.",
    "The conference in {place} runs from {date} to {date2}.",
    "Commit {hash} fixes the race in {ident}.",
    "Invoice {order} totals {money} and is due on {date}.",
    "{http} returned 404 for request {uuid}.",
    "We benchmarked {product} against {product2}: {pct} faster on cold starts.",
    "The {team} team owns {ident} and the {product} integration.",
    "Add a unit test for {ident} and bump the version to {version}.",
    "The {job} role reports to the VP of {team}.",
    "Shipping to {place} takes {small} business days.",
    "{cap} mode is enabled by default since {version}.",
    "Meeting notes, {date}: agreed to migrate from {product} to {product2}.",
    "The warranty for the {product} ends on {date}.",
    "Please open a PR against main; CI runs {product} checks on every push.",
    "Mark the task as done and move on to the {team} backlog.",
    "Release {version} ships on {date} with dark mode and a faster search.",
    "{brand} and {brand} are sponsoring the hackathon in {place}.",
    "Quarterly results: EBITDA margin of {pct}, capex {money}.",
    "The training set has {num} rows and {small} columns.",
    "WARN [{ident}] retry {small}/5 after timeout ({num} ms)",
    "INFO {time} {http} 200 {small}ms",
    "ERROR {ident}: connection refused (attempt {small})",
    "See section {small}.{small} of the {product} documentation.",
    "The {cap} Street Festival is on {date} this year.",
    "Top sellers this month: {product}, {product2}.",
    "The museum in {place} opens at {time}.",
    "Our {job} approved budget line {order}.",
]
NEGATIVES_CODE = [
    "def {ident}(self, {ident2}):\n    return self.{ident2} or {num}",
    "const {ident} = await fetch(`/api/{ident2}`);",
    "SELECT {ident}, COUNT(*) FROM {ident2} GROUP BY {ident} LIMIT {num};",
    'if ({ident} > {num}) {{ throw new IllegalStateException("{ident2} overflow"); }}',
    "for (int i = 0; i < {ident}.size(); i++) {{ total += {ident}.get(i); }}",
    "func {ident}(ctx context.Context) error {{ return nil }}",
    "{ident}:\n  replicas: {small}\n  image: registry/{ident2}:{version}",
    "// TODO: remove {ident} once {product} {version} is everywhere",
    "# {ident2} is cached for {num} seconds",
    'logger.info("{ident} processed %d records", {ident2})',
    '{{"{ident}": {num}, "{ident2}": "{version}", "ok": true}}',
    "at com.example.{ident}.{ident2}({ident}.java:{num})",
    '  File "/app/{ident}.py", line {num}, in {ident2}',
    "user_name = request.args.get('user_name')  # validated below",
    "first_name, last_name = row['first_name'], row['last_name']",
    "class {ident}Service {{ private final {ident2}Repository repo; }}",
]


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def _b64(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.ascii_letters + string.digits + "+/") for _ in range(n))


def _num(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.3:
        return str(rng.randint(0, 99999))
    if r < 0.5:
        return str(rng.randint(10**8, 10**13))  # epoch seconds / ms, ids
    if r < 0.7:
        return f"{rng.uniform(0, 1000):.{rng.randint(1, 12)}f}"
    if r < 0.85:
        return str(rng.choice([80, 443, 8080, 8443, 9090, 5432, 6379, 3000, 27017]))
    return str(rng.randint(10**14, 10**19))


def tech_negative(rng: random.Random) -> str:
    """Lines of logs, configs, code, data files and maths with ids, hashes, ports, epochs and
    identifiers, none of them personal data (recipe 2025.3)."""
    w = lambda: rng.choice(WORDS)  # noqa: E731
    ident = lambda: code_ident(rng)  # noqa: E731
    lines = [
        lambda: (
            f"{nb_date(rng, 'en')} {rng.choice(['INFO', 'WARN', 'DEBUG', 'ERROR'])} [{w()}] request_id=req_{_hex(rng, 10)} {rng.choice(['GET', 'POST'])} /api/v{rng.randint(1, 3)}/{w()}s/{rng.randint(1, 99999)} {rng.choice([200, 201, 404, 500])} {_num(rng)}ms"
        ),
        lambda: (
            f"{ident()}={_num(rng)} {ident()}={_num(rng)} {ident()}={_hex(rng, rng.choice([8, 12, 16]))}"
        ),
        lambda: f"image: registry.internal/{w()}/{w()}@sha256:{_hex(rng, 64)}",
        lambda: (
            f"  - name: {rng.choice(['http', 'https', 'grpc', 'metrics', 'tls', 'admin', 'web'])}\n    containerPort: {_num(rng)}"
        ),
        lambda: (
            f'"{ident()}": {_num(rng)}, "{ident()}": "{_hex(rng, rng.choice([7, 16, 32]))}", "{w()}_id": "{US.uuid4()}"'
        ),
        lambda: (
            f'"integrity": "sha512-{_b64(rng, 86)}==", "version": "{rng.randint(0, 20)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}"'
        ),
        lambda: (
            f'"cursor": "{_b64(rng, rng.randint(12, 40))}=", "ts": {rng.randint(10**9, 2 * 10**9)}, "span_id": "{_hex(rng, 16)}"'
        ),
        lambda: (
            f"{w().upper()[:3]}-{rng.randint(100, 99999)}-{rng.choice(['BLK', 'GRY', 'BLU', 'RED', 'XL'])},{rng.choice(PRODUCTS)},{w()},{_num(rng)},{rng.randint(1, 500)},{rng.choice(['LOT', 'REF', 'BATCH'])}-{rng.randint(10**6, 10**10)}"
        ),
        lambda: (
            f"    {ident()} VARCHAR({rng.choice([16, 32, 64, 255])}) NOT NULL, {ident()} UUID, {ident()} BIGINT"
        ),
        lambda: (
            f'    {rng.choice("abcxyz")}.{w()}(new {ident().capitalize()}("{w()}", {rng.randint(1, 9)}, {ident()}));'
        ),
        lambda: (
            f"\t{rng.choice('srcw')}.{w()}.{rng.choice(['Lock', 'Close', 'Wait'])}()\n\t{ident()} := make(chan {rng.choice(['error', 'int', 'bool'])})"
        ),
        lambda: (
            f"    return hashlib.sha256({ident()}).hexdigest()  # {ident()} = str(uuid.uuid4())"
        ),
        lambda: (
            f"F({rng.randint(10, 90)}) = {_num(rng)}; {rng.randint(2, 20)}! = {_num(rng)}; pi = 3.14159265358979"
        ),
        lambda: (
            f"{rng.randint(0, 9)}.{rng.randint(1, 9)} + 0.{rng.randint(1, 9)} = {_num(rng)}; 2^{rng.randint(8, 64)} = {_num(rng)}"
        ),
        lambda: (
            f'  File "/usr/lib/python3/site-packages/{w()}/{ident()}.py", line {rng.randint(1, 999)}, in {ident()}'
        ),
        lambda: (
            f"commit {_hex(rng, 40)}\nAuthor: ci-bot <ci@build.internal>\n    bump {w()} to {rng.randint(0, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}"
        ),
        lambda: (
            f"[metrics] rps={_num(rng)} p50={_num(rng)}ms p99={_num(rng)}ms errors={rng.randint(0, 5)} heap={rng.randint(50, 900)}MB"
        ),
        lambda: (
            f"const {ident()} = {{ {w()}: '#{_hex(rng, 6)}', {w()}: 'rgb({rng.randint(0, 255)}, {rng.randint(0, 255)}, {rng.randint(0, 255)})' }};"
        ),
    ]
    return "\n".join(rng.choice(lines)() for _ in range(rng.randint(2, 6)))


# ---------------------------------------------------------------------------------------------
# Templates. Slots: {A.given} {A.surname} {A.name} {A.inv} {A.formal} {A.title} {A.email}
# {A.phone} {A.username} {A.password} {A.street} {A.secondary} {A.city} {A.state}
# {A.postcode} {A.country} {A.address} {A.cityline} {A.dob} {A.age} {A.company} {A.ssn}
# {A.nid} {A.passport} {A.dl} {A.iban} {A.card} {A.ip} {A.url}; persons A, B, C; fillers as in
# ``filler_values``.

T = {
    "chat": [
        "Can you help me write a birthday message for my colleague {A.name}? She turns {A.age} on Friday.",
        "Rewrite this so it sounds more professional: hi {B.given}, can u send the contract to {A.name} at {A.email} asap",
        "Summarise this thread for me. {A.name} said the invoice went to {A.address}, but {B.given} thinks it was the old office.",
        "I need a cover letter. My name is {A.name}, I live at {A.address} and my phone is {A.phone}.",
        "Translate to French: Dear {A.formal}, your package will be delivered to {A.street}, {A.cityline} tomorrow.",
        "My login is {A.username} and my password is {A.password}, why does the portal keep rejecting it?",
        "Draft a reply to {A.given} {A.surname} from {A.company} thanking them for the meeting in {place}.",
        "Fix the grammar: me and {A.given} was born on {A.dob} and {B.dob} respectively.",
        "Write a short bio for {A.name}, {job} at {A.company}, based in {A.city}.",
        "Please check whether this IBAN is formatted correctly: {A.iban} (account holder {A.name}).",
        "My son {A.given} is {A.age} years old and allergic to peanuts. Suggest a lunch menu.",
        "Give me a polite reminder email for {A.formal}; the rent for {A.street}, {A.secondary} is overdue.",
        "Is {A.ssn} a valid SSN format? It belongs to my client {A.name}, DOB {A.dob}.",
        "Explain this error: user {A.username} cannot log in from {A.ip}.",
        "Create a calendar invite for {A.name} and {B.name} about the {product} rollout on {date}.",
        "Help me fill this form. Name: {A.name}. Date of birth: {A.dob}. Address: {A.address}.",
        "how do i tell my landlord {A.given} {A.surname} that the heating at {A.street} is broken again",
        "Compare the offers from {A.company} and {B.company} for me; my contact there is {A.given}.",
        "write a limerick about {A.given} from {A.city}",
        "I'm {A.name}, {A.age}, and I want to plan a trip from {A.city} to {place} on a budget.",
        "Make this address label look nice: {A.name} {A.address}",
        "Can you generate a strong password? My current one, {A.password}, got leaked.",
        "We are hiring. Send CVs to {A.given}.{A.surname} at {A.email} or call {A.phone}.",
        "Proofread: 'Ms {A.surname} confirmed that her daughter {B.given} was born {B.dob} in {B.city}.'",
        "Which of these is the cheapest: {product} or {product2}? Ask {A.given} if unsure.",
    ],
    "ticket": [
        "Ticket {order}\nCustomer: {A.name}\nEmail: {A.email}\nIssue: the {product} I ordered was delivered to {A.address} but nobody was home.",
        "Subject: cannot reset password\nHi, this is {A.name} (user {A.username}). The reset link never arrives at {A.email}.",
        "Priority: high. Caller {A.name} reports a double charge on card {A.card}. Callback number {A.phone}.",
        "Customer {A.inv} wants the delivery address changed to {A.street}, {A.secondary}, {A.cityline}.",
        "Escalated by {B.name}: account {A.username} locked after {small} failed attempts from {A.ip}.",
        "Refund request for {order}. Account holder: {A.name}, IBAN {A.iban}.",
        "Hello support, my name is {A.given} and my order {order} is stuck in {place}. My address is {A.address}.",
        "Agent note: spoke to {A.formal}, verified DOB {A.dob} and postcode {A.postcode}. Reissued card.",
        "Bug report from {A.company}: exporting to {product} fails. Contact: {A.name}, {A.phone}.",
        "User {A.username} ({A.email}) asks us to delete all their data under GDPR.",
        "Chat transcript\n{A.given}: hi my parcel never arrived\nAgent: sorry {A.given}, can you confirm your address?\n{A.given}: {A.address}",
        "Warranty claim: {product}, bought {date}. Owner {A.name}, {A.street}, {A.city}.",
        "Customer says the technician {B.given} {B.surname} never showed up at {A.street}.",
        "Case {order}: {A.name} ({A.age}) fell in the {brand} store; incident report attached.",
        "Login attempts for {A.username} from {A.ip} and {B.ip}. Password used: {A.password}",
    ],
    "email": [
        "Hi {A.given},\n\nThanks for your time today. As discussed, please send the signed copy to {B.name}, {B.address}.\n\nBest,\n{C.name}\n{C.company}",
        "Dear {A.formal},\n\nWe are pleased to offer you the position of {job}. Your start date is {date}.\n\nKind regards,\n{B.name}",
        "From: {A.name} <{A.email}>\nTo: {B.email}\nSubject: Re: lease\n\n{B.given}, the keys are with the concierge at {A.street}.",
        "Hello {A.given} and {B.given},\n\nquick reminder that the {team} offsite is in {place} on {date}.\n\nCheers, {C.given}",
        "Dear {A.formal},\nyour new card ending in {num} has been sent to {A.address}. If you did not request it, call us.",
        "Hi team, {A.name} joins us on Monday as {job}. Her desk is next to {B.given}'s.",
        "Dear Sir or Madam,\n\nI, {A.name}, born {A.dob}, residing at {A.address}, hereby cancel my contract.\n\n{A.name}",
        "{A.given}, can you forward me {B.given}'s new number? I only have {B.phone}.",
        "Good morning {A.formal}, please find attached the invoice {order} for {A.company}.",
        "Thanks {A.given}! I'll ask {B.name} from {B.company} to join the call. -- {C.given}",
        "Hi {A.given},\nyour account {A.username} was created. Temporary password: {A.password}\nPlease change it after first login.",
        "Dear {A.given},\nHappy {A.age}th birthday from all of us at {B.company}!",
        "Hi {A.given}, congrats on the move to {A.city}! Send me your new address so I can mail the gift.\n{B.given}",
        "Please ship the samples to our lab: {A.company}, attn. {A.name}, {A.address}.",
    ],
    "hr": [
        "Employee: {A.name}\nDOB: {A.dob}\nAddress: {A.address}\nStart date: {date}\nRole: {job}",
        "Performance review for {A.name} ({job}), reviewer {B.name}. Strong quarter; promotion recommended.",
        "{A.name} requested parental leave from {date} to {date2}. Manager: {B.name}.",
        "New hire checklist: laptop for {A.given} {A.surname}, badge, {product} account ({A.username}).",
        "Payroll change: {A.name}, new IBAN {A.iban}, effective {date}.",
        "Reference check: {A.name} worked at {A.company} as {job} until {date}.",
        "Emergency contact for {A.name}: {B.name} (spouse), {B.phone}.",
        "Candidate {A.name}, {A.age}, lives in {A.city}; available from {date}.",
        "Termination letter drafted for {A.formal}; final pay to account {A.iban}.",
        "Relocation of {A.name} to the {place} office; temporary housing at {A.street}, {A.secondary}.",
        "Onboarding buddy for {A.given} will be {B.given} from the {team} team.",
        "Visa paperwork for {A.name}: passport {A.passport}, born {A.dob} in {A.city}.",
    ],
    "medical": [
        "Patient: {A.name}, {A.age} y/o, DOB {A.dob}. Presents with chest pain since {date}.",
        "Referral: {A.formal} to Dr. {B.surname}, {B.company}. Address on file: {A.address}.",
        "Pt {A.inv}, born {A.dob}, seen by {B.name} for follow-up. Next visit {date}.",
        "Discharge summary for {A.name} ({A.age}). Home address {A.address}. Contact {A.phone}.",
        "{A.given} {A.surname}, {A.age}-year-old, allergic to penicillin. Insurance ID {A.nid}.",
        "Prescription for {A.name}, DOB {A.dob}: amoxicillin 500 mg three times daily for {small} days.",
        "Nurse note: {A.given} slept well; daughter {B.given} visited at {time}.",
        "Lab results for {A.name} sent to {A.email}. SSN on file {A.ssn}.",
        "Vaccination record: {A.name}, born {A.dob}, second dose on {date}.",
        "The {job} called {A.formal} at {A.phone} about the MRI on {date}.",
    ],
    "letter": [
        "{A.name}\n{A.address}\n\n{date}\n\nDear {B.formal},\n\nI am writing regarding my account with {B.company}.",
        "To whom it may concern,\n\nI confirm that {A.name}, born on {A.dob}, has lived at {A.address} since {date}.\n\n{B.name}",
        "{A.company}\n{A.address}\n\nRe: reference for {B.name}\n\n{B.given} worked with us as {job}.",
        "Dear {A.given},\n\nwe have not heard from you since {date}. Please contact us at {B.phone}.\n\n{B.name}, {B.company}",
        "Notice to tenant {A.name}, {A.street}, {A.secondary}, {A.cityline}: rent increase from {date}.",
        "Sender: {A.name}, {A.address}\nRecipient: {B.name}, {B.address}",
    ],
    "crm": [
        "Lead: {A.name} | {A.company} | {A.email} | {A.phone} | {A.city}, {A.country}",
        "Account owner {B.name}. Contact {A.name} prefers email ({A.email}). Billing address: {A.address}.",
        "Opportunity with {A.company}: decision maker {A.formal}, champion {B.given} {B.surname}.",
        "Call log {date}: {A.given} from {A.company} interested in {product}; follow up {date2}.",
        "Customer since {date}: {A.name}, {A.age}, {A.city}. Loyalty number {num}.",
        "Shipping label\n{A.name}\n{A.address}\nTel. {A.phone}",
        "Contact card: {A.inv}; {job}; {A.company}; {A.url}",
        "Delivery for {A.name}, {A.street}, {A.postcode} {A.city}, leave with neighbour {B.surname}.",
        "Booking confirmed for {A.name} and {B.name}, check-in {date}, {place} Hotel. Paid with {A.card}.",
        "Subscriber {A.username} ({A.email}) upgraded to Pro on {date} from IP {A.ip}.",
        "Driver: {A.name}, licence {A.dl}, DOB {A.dob}. Vehicle rented in {place}.",
        "KYC: {A.name}, passport {A.passport}, national id {A.nid}, address {A.address}.",
    ],
    "code": [
        "# author: {A.name} <{A.email}>\ndef {ident}():\n    pass",
        "// TODO({A.username}): remove this hack before {version}\nconst {ident} = {num};",
        'test_user = User(first_name="{A.given}", last_name="{A.surname}", email="{A.email}")',
        'DB_PASSWORD = "{A.password}"  # ask {A.given} for the prod one',
        "INSERT_ME = {{'name': '{A.name}', 'street': '{A.street}', 'zip': '{A.postcode}'}}",
        "/**\n * Maintainer: {A.name} ({A.company})\n */\npublic class {ident} {{}}",
        'git commit -m "fix {ident}" --author="{A.name} <{A.email}>"',
        "curl -u {A.username}:{A.password} https://api.example.com/v1/{ident}",
        'assert format_address("{A.street}", "{A.city}") == "{A.street}, {A.city}"',
        'mock_customer = {{"dob": "{A.dob}", "phone": "{A.phone}", "city": "{A.city}"}}',
    ],
    "log": [
        "{time} INFO login ok user={A.username} ip={A.ip}",
        "{time} WARN failed login for {A.email} from {A.ip} (attempt {small})",
        '{time} ERROR payment declined card={A.card} customer="{A.name}"',
        "{time} DEBUG shipping address updated: {A.street}, {A.city} {A.postcode}",
        "audit: {A.username} changed password to {A.password} at {time}",
        '{time} INFO {http} 200 user={A.username} name="{A.name}"',
        "[{date} {time}] signup email={A.email} phone={A.phone} country={A.country}",
        "{time} INFO new account for {A.name}, born {A.dob}",
    ],
    "legal": [
        "This agreement is made between {A.company}, represented by {A.name}, and {B.name}, residing at {B.address}.",
        "The tenant, {A.name}, born {A.dob}, shall pay the rent to account {A.iban}.",
        "Witness: {A.name}, {A.street}, {A.city}. Signed in {place} on {date}.",
        "The plaintiff {A.name} alleges that the defendant {B.name} breached the contract on {date}.",
        "Power of attorney: I, {A.name}, authorise {B.name} to act on my behalf.",
        "Buyer: {A.name}, {A.address}. Seller: {B.company}, {B.address}. Price: {money}.",
    ],
    "edu": [
        "Student {A.name} (ID {num}), age {A.age}, enrolled in the {job} programme.",
        "Parent contact for {A.given}: {B.name}, {B.phone}, {B.email}.",
        "Transcript request from {A.name}, born {A.dob}, graduated {date}.",
        "{A.given} {A.surname} won the science fair; her mentor was {B.formal}.",
        "School trip to {place}: {A.given}, {B.given} and {C.given} still need consent forms.",
    ],
    "realestate": [
        "Viewing at {A.street}, {A.secondary}, {A.cityline} with {A.name} on {date}.",
        "The flat at {A.address} is let to {A.name}; deposit {money}.",
        "Seller {A.name} accepted the offer from {B.name} for {A.street}.",
        "Property {A.street}, {A.city}, {A.state}: three bedrooms, garden, {money}.",
    ],
    # people mentioned by one name part, in lists, with possessives (recipe 2025.2)
    "mentions": [
        "{A.surname} said the numbers look fine, but {B.surname} wants another review.",
        "Thanks to {A.given}, {B.given} and {C.given} for covering the weekend shift.",
        "{A.given} is on leave until {date}; ask {B.given} instead.",
        "According to {A.surname}, the shipment left {place} on {date}.",
        "cc {A.given}, {B.given}",
        "{A.surname}'s team signed off on the {product} migration.",
        "The novel by {A.given} {A.surname} was adapted for film by {B.surname}.",
        "{A.given} will be late today, {B.given} is sick.",
        "Our guests tonight: {A.name}, {B.name} and {C.given} {C.surname}.",
        "I asked {A.given} whether {B.surname} had paid, and she said no.",
        "Directed by {A.name}, starring {B.name} and {C.surname}.",
        "{A.given} {A.middle} {A.surname} and {B.given} met at {A.company}.",
        "Shout-out to {A.given} for fixing the build!",
        "{A.surname} and {B.surname} co-authored the report.",
        "my neighbour {A.given} keeps parking in front of our garage",
        "{A.given}'s manager {B.given} approved the refund.",
        "Invite {A.given} {A.surname}, {B.given} {B.surname} and {C.given} {C.surname} to the review.",
        "Assigned to: {A.surname}. Reviewer: {B.surname}.",
        "{A.given} {A.surname} ({A.age}) from {A.city} won the {place} marathon.",
        "Please welcome {A.given}, who joins {B.surname}'s team as {job}.",
    ],
    "forms": [
        "Name: {A.name}\nAddress:\n{A.lines}\nPhone: {A.phone}",
        "{A.name}\n{A.lines}",
        "Ship to:\n{A.name}\n{A.lines}\n\nBill to:\n{B.name}\n{B.lines}",
        "Applicant: {A.inv}\nDate of birth: {A.dob}\nHome address: {A.address}",
        "Contact details\n{A.given} {A.surname}\n{A.company}\n{A.lines}\n{A.email}",
    ],
}

# Templates in the five other core languages: names and addresses in their own prose.
T_LANG = {
    "de": [
        "Sehr geehrte {A.formal},\n\nIhre Bestellung wird an {A.address} geliefert.\n\nMit freundlichen Grüßen\n{B.name}",
        "Hallo {A.given}, kannst du {B.given} {B.surname} die neue Adresse schicken? Sie wohnt jetzt in der {B.street}, {B.cityline}.",
        "Mitarbeiter: {A.name}, geboren am {A.dob}, wohnhaft {A.address}.",
        "Bitte überweisen Sie den Betrag an {A.name}, IBAN {A.iban}.",
        "Patient {A.name} ({A.age} Jahre) wurde am {date} in {A.city} aufgenommen.",
        "Ich heiße {A.given} {A.surname} und wohne in {A.street}, {A.cityline}. Meine Nummer ist {A.phone}.",
        "Kunde {A.inv} beschwert sich über die Lieferung von {product}.",
        "Rechnungsadresse: {A.company}, z. Hd. {A.name}, {A.address}",
    ],
    "fr": [
        "Bonjour {A.formal},\n\nvotre colis sera livré au {A.street}, {A.cityline}.\n\nCordialement,\n{B.name}",
        "Je m'appelle {A.name}, je suis né le {A.dob} et j'habite à {A.city}.",
        "Merci de contacter {A.given} {A.surname} au {A.phone} ou par mail : {A.email}.",
        "Le patient {A.name}, {A.age} ans, a été vu le {date} par le Dr {B.surname}.",
        "Adresse de facturation : {A.name}, {A.address}",
        "Salut {A.given}, {B.given} a déménagé au {B.street}, {B.secondary}, {B.cityline}.",
        "Client : {A.inv}, société {A.company}, IBAN {A.iban}.",
        "Rendez-vous avec {A.formal} à {place} le {date}.",
    ],
    "es": [
        "Estimado {A.formal}:\n\nsu pedido se enviará a {A.address}.\n\nAtentamente,\n{B.name}",
        "Me llamo {A.name}, nací el {A.dob} y vivo en {A.street}, {A.cityline}.",
        "Por favor, llame a {A.given} {A.surname} al {A.phone}.",
        "Paciente: {A.name}, {A.age} años, ingresado el {date} en {A.city}.",
        "Dirección de envío: {A.name}, {A.address}",
        "Hola {A.given}, ¿tienes el correo de {B.given}? Creo que es {B.email}.",
        "Cliente {A.inv} de {A.company} solicita la devolución a la cuenta {A.iban}.",
    ],
    "it": [
        "Gentile {A.formal},\n\nla consegna è prevista presso {A.address}.\n\nCordiali saluti,\n{B.name}",
        "Mi chiamo {A.name}, sono nato il {A.dob} e abito in {A.street}, {A.cityline}.",
        "Contattare {A.given} {A.surname} al numero {A.phone}.",
        "Paziente {A.name}, {A.age} anni, ricoverato il {date} a {A.city}.",
        "Indirizzo di fatturazione: {A.company}, alla c.a. di {A.name}, {A.address}",
        "Ciao {A.given}, {B.given} si è trasferita in {B.street}, {B.secondary}, {B.cityline}.",
        "Cliente {A.inv}, IBAN {A.iban}, codice cliente {num}.",
    ],
    "nl": [
        "Geachte {A.formal},\n\nuw pakket wordt bezorgd op {A.address}.\n\nMet vriendelijke groet,\n{B.name}",
        "Ik heet {A.name}, ben geboren op {A.dob} en woon op {A.street}, {A.cityline}.",
        "Bel {A.given} {A.surname} op {A.phone} of mail naar {A.email}.",
        "Patiënt {A.name}, {A.age} jaar, opgenomen op {date} in {A.city}.",
        "Factuuradres: {A.company}, t.a.v. {A.name}, {A.address}",
        "Hoi {A.given}, {B.given} woont nu op {B.street}, {B.cityline}.",
        "Klant {A.inv} vraagt terugbetaling op rekening {A.iban}.",
    ],
}


# ---------------------------------------------------------------------------------------------
# Structured records


FIELD_KEYS = {
    "given": ["first_name", "firstName", "given_name", "fname", "vorname", "prenom", "nombre"],
    "surname": ["last_name", "lastName", "surname", "family_name", "nachname", "nom", "apellido"],
    "name": ["name", "full_name", "customer", "contact", "holder", "patient"],
    "email": ["email", "mail", "email_address", "e-mail"],
    "phone": ["phone", "tel", "mobile", "phone_number"],
    "street": ["street", "address1", "address_line1", "strasse", "rue"],
    "secondary": ["address2", "address_line2", "apt", "suite"],
    "city": ["city", "town", "ort", "ville", "ciudad"],
    "state": ["state", "region", "province", "county"],
    "postcode": ["zip", "postcode", "postal_code", "plz", "zip_code"],
    "country": ["country", "land", "pays"],
    "dob": ["dob", "birth_date", "date_of_birth", "birthday", "geburtsdatum"],
    "age": ["age", "alter"],
    "company": ["company", "employer", "organisation", "firma"],
    "username": ["username", "login", "user", "handle"],
    "password": ["password", "pwd", "passwd", "secret"],
    "iban": ["iban", "bank_account"],
    "card": ["card_number", "cc", "pan"],
    "ip": ["ip", "client_ip", "remote_addr"],
    "ssn": ["ssn", "social_security_number"],
}
FIELD_LABEL = {
    "given": "GIVEN_NAME", "surname": "SURNAME", "email": "EMAIL", "phone": "PHONE",
    "street": "STREET", "secondary": "SECONDARY_ADDRESS", "city": "CITY", "state": "STATE",
    "postcode": "POSTAL_CODE", "country": "COUNTRY", "dob": "DATE_OF_BIRTH", "age": "AGE",
    "company": "COMPANY", "username": "USERNAME", "password": "PASSWORD", "iban": "IBAN",
    "card": "CREDIT_CARD", "ip": "IP_ADDRESS", "ssn": "SSN",
}  # fmt: skip
NEG_FIELDS = {
    "id": lambda r: str(r.randint(1, 999999)),
    "status": lambda r: r.choice(["active", "pending", "closed", "ACTIVE", "churned"]),
    "plan": lambda r: r.choice(["Free", "Pro", "Enterprise", "Team"]),
    "created_at": lambda r: (
        f"{r.randint(2019, 2025)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}"
    ),
    "amount": lambda r: f"{r.randint(1, 9999)}.{r.randint(0, 99):02d}",
    "sku": lambda r: f"SKU-{r.randint(1000, 99999)}",
    "product": lambda r: r.choice(PRODUCTS),
    "currency": lambda r: r.choice(["EUR", "USD", "GBP"]),
}


def person_field(p: Person, key: str) -> list[Seg]:
    if key == "name":
        return p.name() if p.rng.random() < 0.8 else p.name_inverted()
    value = getattr(p, {"dob": "dob", "ip": "ip"}.get(key, key))()
    return [Seg(value, FIELD_LABEL[key])]


def record_fields(rng: random.Random) -> list[str]:
    fields = []
    if rng.random() < 0.6:
        fields += ["given", "surname"]
    else:
        fields.append("name")
    fields += rng.sample(
        [k for k in FIELD_KEYS if k not in ("given", "surname", "name")], rng.randint(2, 7)
    )
    fields += rng.sample(list(NEG_FIELDS), rng.randint(0, 3))
    rng.shuffle(fields)
    return fields


def keyname(rng: random.Random, field: str) -> str:
    return field if field in NEG_FIELDS else rng.choice(FIELD_KEYS[field])


def structured(fmt: str, persons: list[Person], rng: random.Random) -> list[Seg]:
    fields = record_fields(rng)
    keys = [keyname(rng, f) for f in fields]

    def val(p: Person, f: str) -> list[Seg]:
        return [Seg(NEG_FIELDS[f](rng))] if f in NEG_FIELDS else person_field(p, f)

    out: list[Seg] = []
    if fmt == "json":
        indent = rng.random() < 0.5
        out.append(Seg("[" if len(persons) > 1 else ""))
        for i, p in enumerate(persons):
            out.append(Seg("{" + ("\n  " if indent else "")))
            for j, (f, k) in enumerate(zip(fields, keys)):
                out.append(Seg(f'"{k}": "'))
                out += val(p, f)
                out.append(
                    Seg('"' + ("," + ("\n  " if indent else " ") if j < len(fields) - 1 else ""))
                )
            out.append(Seg(("\n" if indent else "") + "}" + (", " if i < len(persons) - 1 else "")))
        out.append(Seg("]" if len(persons) > 1 else ""))
    elif fmt == "csv":
        sep = rng.choice([",", ";", "\t", "|"])
        out.append(Seg(sep.join(keys) + "\n"))
        for p in persons:
            for j, f in enumerate(fields):
                out += val(p, f)
                if j < len(fields) - 1:
                    out.append(Seg(sep))
            out.append(Seg("\n"))
    elif fmt == "yaml":
        for p in persons:
            for j, (f, k) in enumerate(zip(fields, keys)):
                out.append(Seg(("- " if j == 0 else "  ") + f"{k}: "))
                out += val(p, f)
                out.append(Seg("\n"))
    elif fmt == "kv":
        for p in persons:
            for f, k in zip(fields, keys):
                out.append(Seg(f"{k}="))
                out += val(p, f)
                out.append(Seg(" "))
            out.append(Seg("\n"))
    elif fmt == "xml":
        for p in persons:
            out.append(Seg("<record>"))
            for f, k in zip(fields, keys):
                out.append(Seg(f"<{k}>"))
                out += val(p, f)
                out.append(Seg(f"</{k}>"))
            out.append(Seg("</record>\n"))
    elif fmt == "sql":
        out.append(Seg(f"INSERT INTO customers ({', '.join(keys)}) VALUES "))
        for i, p in enumerate(persons):
            out.append(Seg("("))
            for j, f in enumerate(fields):
                out.append(Seg("'"))
                out += val(p, f)
                out.append(Seg("'" + (", " if j < len(fields) - 1 else "")))
            out.append(Seg(")" + (", " if i < len(persons) - 1 else ";")))
    elif fmt == "form":
        for f, k in zip(fields, keys):
            out.append(Seg(k.replace("_", " ").capitalize() + ": "))
            out += val(persons[0], f)
            out.append(Seg("\n"))
    return out


TRAIN_FORMATS = ("json", "csv", "yaml", "kv", "form")


# ---------------------------------------------------------------------------------------------
# Rendering


SLOT = re.compile(r"\{([A-Za-z0-9]+)(?:\.([a-z]+))?\}")


def render(template: str, persons: dict[str, Person], fill: dict[str, str]) -> list[Seg]:
    out: list[Seg] = []
    pos = 0
    tpl = template.replace("{{", "\x00").replace("}}", "\x01")
    for m in SLOT.finditer(tpl):
        out.append(Seg(tpl[pos : m.start()]))
        who, attr = m.group(1), m.group(2)
        if attr is None:
            out.append(Seg(fill[who]))
        else:
            p = persons[who]
            out += slot_value(p, attr)
        pos = m.end()
    out.append(Seg(tpl[pos:]))
    for s in out:
        s.text = s.text.replace("\x00", "{").replace("\x01", "}")
    return out


def slot_value(p: Person, attr: str) -> list[Seg]:
    simple = {
        "given": "GIVEN_NAME", "surname": "SURNAME", "email": "EMAIL", "phone": "PHONE",
        "username": "USERNAME", "password": "PASSWORD", "street": "STREET",
        "secondary": "SECONDARY_ADDRESS", "city": "CITY", "state": "STATE",
        "postcode": "POSTAL_CODE", "country": "COUNTRY", "dob": "DATE_OF_BIRTH", "age": "AGE",
        "company": "COMPANY", "ssn": "SSN", "nid": "NATIONAL_ID", "passport": "PASSPORT",
        "dl": "DRIVER_LICENSE", "iban": "IBAN", "card": "CREDIT_CARD", "ip": "IP_ADDRESS",
        "url": "URL",
    }  # fmt: skip
    method = {"nid": "national_id", "dl": "driver_license"}.get(attr, attr)
    if attr in simple:
        return [Seg(getattr(p, method)(), simple[attr])]
    if attr == "name":
        return p.name()
    if attr == "inv":
        return p.name_inverted()
    if attr == "formal":
        return p.formal()
    if attr == "middle":
        return [Seg(p.middle(), "GIVEN_NAME")]
    if attr == "title":
        return [Seg(p.title())]
    if attr == "address":
        return p.address() if p.rng.random() < 0.8 else p.address_lines()
    if attr == "lines":
        return p.address_lines()
    if attr == "cityline":
        return p.city_line()
    raise KeyError(attr)


@dataclass
class Example:
    text: str
    spans: list[tuple[int, int, str]]
    meta: dict = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({"text": self.text, "spans": self.spans, **self.meta}, ensure_ascii=False)


def join(segments: list[Seg]) -> tuple[str, list[tuple[int, int, str]]]:
    text, spans, pos = [], [], 0
    for s in segments:
        if s.label is not None and s.text.strip():
            # a labelled value never carries outer whitespace
            lead = len(s.text) - len(s.text.lstrip())
            core = s.text.strip()
            spans.append((pos + lead, pos + lead + len(core), s.label))
        text.append(s.text)
        pos += len(s.text)
    return "".join(text), spans


def templates(split: str) -> list[tuple[str, str, str | None]]:
    """(template id, template, language or None) for one split ('train' or 'heldout')."""
    out = []
    for domain, items in list(T.items()) + [(f"lang_{k}", v) for k, v in T_LANG.items()]:
        lang = domain.removeprefix("lang_") if domain.startswith("lang_") else None
        for i, tpl in enumerate(items):
            held = i % 5 == HELDOUT_INDEX
            if (split == "heldout") == held:
                out.append((f"{domain}/{i}", tpl, lang))
    return out


class Generator:
    """Draws examples for one split. ``split``: 'train' (train templates, train locales),
    'heldout_templates' (unseen templates, core locales), 'heldout_locales' (train templates,
    unseen locales)."""

    def __init__(self, split: str, seed: int) -> None:
        self.split = split
        self.rng = random.Random(seed)
        self.fakers: dict[str, Faker] = {}
        tpl_split = "heldout" if split == "heldout_templates" else "train"
        self.templates = templates(tpl_split)
        self.formats = HELDOUT_FORMATS if split == "heldout_templates" else TRAIN_FORMATS
        if split == "heldout_locales":
            self.locales: tuple[str, ...] = HELDOUT_LOCALES
        elif split == "heldout_templates":
            self.locales = CORE_LOCALES
        else:
            self.locales = CORE_LOCALES * 3 + EXTRA_LOCALES + ("ja_JP",)

    def faker(self, locale: str) -> Faker:
        if locale not in self.fakers:
            f = Faker(locale)
            f.seed_instance(self.rng.randint(0, 2**31))
            self.fakers[locale] = f
        return self.fakers[locale]

    def person(self, locale: str) -> Person:
        if locale == "ja_JP":  # romanised Japanese names, US addresses
            p = Person(self.faker("en_US"), self.rng, "en_US")
            jp = self.faker("ja_JP")
            p._cache["given"] = jp.first_romanized_name()
            p._cache["surname"] = jp.last_romanized_name()
            return p
        return Person(self.faker(locale), self.rng, locale)

    def segment(self) -> tuple[list[Seg], dict]:
        r = self.rng.random()
        locale = self.rng.choice(self.locales)
        lang = lang_of(locale)
        if r < 0.1 and self.split == "train":
            tpl = self.rng.choice(NEGATIVES_EN + NEGATIVES_CODE)
            return render(tpl, {}, filler_values(self.rng, lang)), {"template": "negative"}
        if r < 0.2 and self.split == "train":
            return [Seg(tech_negative(self.rng))], {"template": "negative/tech"}
        if r < 0.33:
            fmt = self.rng.choice(self.formats)
            people = [self.person(locale) for _ in range(self.rng.choice([1, 1, 2, 3]))]
            return structured(fmt, people, self.rng), {
                "template": f"format/{fmt}",
                "locale": locale,
            }
        tid, tpl, tlang = self.rng.choice(self.templates)
        if tlang is not None:
            if self.split == "heldout_locales":
                tid, tpl, tlang = self.rng.choice([t for t in self.templates if t[2] is None])
            else:
                locale = self.rng.choice(LANG[tlang])
        persons = {k: self.person(locale) for k in "ABC"}
        return render(tpl, persons, filler_values(self.rng, lang_of(locale))), {
            "template": tid,
            "locale": locale,
        }

    def example(self) -> Example:
        segments: list[Seg] = []
        metas = []
        for i in range(self.rng.choice([1, 1, 1, 2, 2, 3])):
            if i:
                segments.append(Seg(self.rng.choice([" ", "\n", "\n\n", " "])))
            segs_, meta = self.segment()
            segments += segs_
            metas.append(meta)
            if self.split == "train" and self.rng.random() < 0.3:
                segments.append(Seg(self.rng.choice([" ", "\n"])))
                if self.rng.random() < 0.5:
                    segments.append(Seg(tech_negative(self.rng)))
                else:
                    neg = self.rng.choice(NEGATIVES_EN)
                    segments += render(neg, {}, filler_values(self.rng, "en"))
        text, spans = join(segments)
        return Example(text, spans, {"parts": metas})

    def __iter__(self) -> Iterator[Example]:
        while True:
            yield self.example()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--split", default="train")
    ap.add_argument("--n", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jsonl", action="store_true", help="one JSON object per line")
    args = ap.parse_args()
    gen = Generator(args.split, args.seed)
    for _ in range(args.n):
        ex = gen.example()
        if args.jsonl:
            print(ex.to_json())
        else:
            print(ex.text)
            print("  ", [(ex.text[s:e], t) for s, e, t in ex.spans])
            print("---")


if __name__ == "__main__":
    main()
