"""The guideline of seed 004 as first stored: "Mitä opastaja TEKEE ja EI TEE opastustilanteessa".

The Finnish texts are the seed's own words. Swedish, English and Dutch are translations of
them. These are content (stored in the database and edited there by service admins), not
interface strings, so they do not go through gettext. Each item has a stable key that
survives edits; **...** marks the seed's bold emphasis (shown as <strong>); the NEVER rules
keep their seed numbers (never-1 .. never-6) because the topic-to-limit mapping refers to them.
"""

ALWAYS = [
    (
        "always-1",
        {
            "fi": "Kohtaa asiakkaan asiakaspalveluhengessä ystävällisesti, käyttäytyy ja puhuu korrektisti.",
            "sv": "Möter kunden vänligt i kundservicens anda, uppträder och talar korrekt.",
            "en": "Meets the customer in a friendly customer-service spirit, behaves and speaks correctly.",
            "nl": "Ontvangt de klant vriendelijk en klantgericht, gedraagt zich en spreekt correct.",
        },
    ),
    (
        "always-2",
        {
            "fi": "Muistaa, että tyhmiä kysymyksiä ei ole olemassa.",
            "sv": "Kommer ihåg att det inte finns några dumma frågor.",
            "en": "Remembers that there are no stupid questions.",
            "nl": "Onthoudt dat domme vragen niet bestaan.",
        },
    ),
    (
        "always-3",
        {
            "fi": "Välttää teknisiä termejä ja \"jargonia\": asiakkaalta ei voi olettaa tietotekniikan syvällistä ymmärtämistä.",
            "sv": "Undviker tekniska termer och \"jargong\": man kan inte förutsätta att kunden har djup förståelse av informationsteknik.",
            "en": "Avoids technical terms and \"jargon\": the customer cannot be expected to understand information technology in depth.",
            "nl": "Vermijdt technische termen en \"jargon\": van de klant mag geen diep begrip van informatietechnologie worden verwacht.",
        },
    ),
    (
        "always-4",
        {
            "fi": "Varmistaa, että puhutaan samoista asioista, koska tietotekniikkaa tuntematon asiakas saattaa käyttää aivan eri termejä kuin alalla yleisesti on tapana.",
            "sv": "Försäkrar sig om att man talar om samma sak, eftersom en kund som inte känner till informationsteknik kan använda helt andra termer än de som är vanliga i branschen.",
            "en": "Makes sure both are talking about the same thing, because a customer unfamiliar with information technology may use quite different terms from those usual in the field.",
            "nl": "Zorgt ervoor dat men over hetzelfde praat, want een klant die niet met informatietechnologie vertrouwd is, kan heel andere termen gebruiken dan in het vak gebruikelijk zijn.",
        },
    ),
    (
        "always-5",
        {
            "fi": "Pyrkii antamaan asiakkaan ongelmiin ratkaisun tai ratkaisuvaihtoehtoja ja perustelee ratkaisut neutraalisti, ei vain omien mieltymysten pohjalta.",
            "sv": "Strävar efter att ge en lösning eller alternativa lösningar på kundens problem och motiverar lösningarna neutralt, inte bara utifrån egna preferenser.",
            "en": "Aims to give a solution or alternative solutions to the customer's problems and argues for them neutrally, not only on personal preference.",
            "nl": "Probeert de klant een oplossing of alternatieve oplossingen te bieden en onderbouwt die neutraal, niet alleen op basis van eigen voorkeur.",
        },
    ),
    (
        "always-6",
        {
            "fi": "Jos ongelma ei ole ohjaustilanteessa ratkaistavissa, selittää tilanteen asiakkaalle ja ohjaa tarvittaessa esimerkiksi ottamaan yhteyttä huoltoliikkeeseen tai palvelun tarjoajaan.",
            "sv": "Om problemet inte kan lösas under handledningen förklarar hen situationen för kunden och hänvisar vid behov kunden till exempel till en serviceverkstad eller tjänsteleverantören.",
            "en": "If the problem cannot be solved during the session, explains the situation to the customer and, where needed, refers them for example to a repair shop or the service provider.",
            "nl": "Als het probleem tijdens de begeleiding niet op te lossen is, legt de situatie aan de klant uit en verwijst zo nodig bijvoorbeeld naar een reparatiewerkplaats of de dienstverlener.",
        },
    ),
    (
        "always-7",
        {
            "fi": "Antaa asiakkaalle vihjeitä ja neuvoja siitä, mistä tämä voi halutessaan saada lisätietoa aiheesta.",
            "sv": "Ger kunden tips och råd om var hen kan få mer information om ämnet om hen vill.",
            "en": "Gives the customer hints and advice on where to find more information on the topic if they wish.",
            "nl": "Geeft de klant tips en advies over waar die desgewenst meer informatie over het onderwerp kan vinden.",
        },
    ),
    (
        "always-8",
        {
            "fi": "**Rohkaisee ja kannustaa** asiakasta.",
            "sv": "**Uppmuntrar och sporrar** kunden.",
            "en": "**Encourages and supports** the customer.",
            "nl": "**Moedigt de klant aan en stimuleert hem**.",
        },
    ),
    (
        "always-9",
        {
            "fi": "Jos ei tiedä, myöntää sen, eikä esitä arvauksia tietona.",
            "sv": "Om hen inte vet, erkänner hen det och lägger inte fram gissningar som fakta.",
            "en": "If they do not know, admits it and does not present guesses as facts.",
            "nl": "Geeft toe het niet te weten als dat zo is en brengt geen gissingen als feiten.",
        },
    ),
]

IF_TIME = [
    (
        "iftime-1",
        {
            "fi": "Antaa asiakkaalle vinkkejä siitä, kuinka hänen laitteensa toimintaa ja/tai käyttöä voisi tehostaa/helpottaa.",
            "sv": "Ger kunden tips om hur hens enhet kan fungera och/eller användas effektivare eller enklare.",
            "en": "Gives the customer tips on how their device could work and/or be used more efficiently or easily.",
            "nl": "Geeft de klant tips om het apparaat efficiënter en/of gemakkelijker te laten werken of te gebruiken.",
        },
    ),
    (
        "iftime-2",
        {
            "fi": "Kertoo asiakkaalle alkuperäistä ongelmaa laajemmin aihepiiristä ja innostaa häntä hankkimaan lisätietoa.",
            "sv": "Berättar för kunden mer om ämnesområdet än det ursprungliga problemet och inspirerar hen att skaffa mer kunskap.",
            "en": "Tells the customer about the topic more broadly than the original problem and inspires them to learn more.",
            "nl": "Vertelt de klant breder over het onderwerp dan het oorspronkelijke probleem en inspireert om meer te leren.",
        },
    ),
    (
        "iftime-3",
        {
            "fi": "Antaa asiakkaalle vinkkejä kirjaston e-aineistojen käytöstä esimerkiksi ohjaamalla aiheeseen liittyvien e-lehtien pariin.",
            "sv": "Ger kunden tips om hur bibliotekets e-material används, till exempel genom att visa e-tidskrifter om ämnet.",
            "en": "Gives the customer tips on using the library's e-resources, for example by pointing to e-magazines on the topic.",
            "nl": "Geeft de klant tips over het gebruik van de e-bronnen van de bibliotheek, bijvoorbeeld door te wijzen op e-tijdschriften over het onderwerp.",
        },
    ),
]

# NEVER: the rule, and what the guide does instead when a session reaches it.
NEVER = [
    (
        "never-1",
        {
            "fi": "**Ei tee asiakkaan puolesta** mitään, ellei asiakkaan sairaus, vamma tms. tee sitä välttämättömäksi, vaan neuvoo ja kannustaa asiakasta tekemään itse.",
            "sv": "Gör ingenting i kundens ställe, om inte kundens sjukdom, funktionsnedsättning e.d. gör det nödvändigt, utan ger råd och uppmuntrar kunden att göra det själv.",
            "en": "**Does nothing on the customer's behalf**, unless the customer's illness, disability or similar makes it necessary, but advises and encourages the customer to do it themselves.",
            "nl": "Doet niets in plaats van de klant, tenzij ziekte, een beperking of iets dergelijks dat noodzakelijk maakt, maar adviseert de klant en moedigt aan het zelf te doen.",
        },
        {
            "fi": "Neuvo vaihe vaiheelta ja anna asiakkaan tehdä itse.",
            "sv": "Ge råd steg för steg och låt kunden göra det själv.",
            "en": "Advise step by step and let the customer do it themselves.",
            "nl": "Geef stap voor stap advies en laat de klant het zelf doen.",
        },
    ),
    (
        "never-2",
        {
            "fi": "**Ei hoida** nettipalveluissa asiakkaan henkilökohtaisia, luottamuksellisia asioita. **Ei anna** esim. lomakkeen täyttöön liittyviä neuvoja **eikä avusta** palvelussa, joka vaatii vahvaa tunnistautumista (esim. pankki) vaan ohjaa asiakkaan ottamaan yhteyttä palvelun tarjoajaan. **Ei ole** asiakkaan puolesta tai häntä avustaen tekemisissä minkään palvelun kanssa, jossa vaarana on taloudellinen menetys (esim. Veikkaus).",
            "sv": "Sköter inte kundens personliga, konfidentiella ärenden i nättjänster. Ger inte t.ex. råd om att fylla i blanketter och hjälper inte till i en tjänst som kräver stark autentisering (t.ex. banken) utan hänvisar kunden att kontakta tjänsteleverantören. Har inte för kundens räkning eller genom att hjälpa hen att göra med någon tjänst där det finns risk för ekonomisk förlust (t.ex. Veikkaus).",
            "en": "Does not handle the customer's personal, confidential matters in online services. Gives no advice on, for example, filling in forms and does not assist in a service that requires strong identification (e.g. a bank), but refers the customer to contact the service provider. Never deals, on the customer's behalf or by assisting them, with any service that carries a risk of financial loss (e.g. Veikkaus gambling).",
            "nl": "Behandelt geen persoonlijke, vertrouwelijke zaken van de klant in onlinediensten. Geeft geen advies over bijvoorbeeld het invullen van formulieren en helpt niet bij een dienst die sterke identificatie vereist (bijv. de bank), maar verwijst de klant naar de dienstverlener. Heeft namens de klant of door hem te helpen niets te maken met een dienst waarbij financieel verlies dreigt (bijv. Veikkaus, kansspelen).",
        },
        {
            "fi": "Ohjaa asiakas ottamaan yhteyttä palvelun tarjoajaan (esim. oma pankki).",
            "sv": "Hänvisa kunden att kontakta tjänsteleverantören (t.ex. den egna banken).",
            "en": "Refer the customer to the service provider (e.g. their own bank).",
            "nl": "Verwijs de klant naar de dienstverlener (bijv. de eigen bank).",
        },
    ),
    (
        "never-3",
        {
            "fi": "**Ei tee tai edes auta** asiakasta tekemään mitään peruuttamatonta tai vaikeasti peruttavaa muutosta laitteensa asetuksiin vaan ohjaa asiakkaan esimerkiksi ottamaan yhteyttä myyjä- tai huoltoliikkeeseen.",
            "sv": "Gör inte och hjälper inte ens kunden att göra någon oåterkallelig eller svårt återkallelig ändring i enhetens inställningar utan hänvisar kunden till exempel att kontakta säljaren eller en serviceverkstad.",
            "en": "Makes, or even helps the customer make, no irreversible or hard-to-undo change to their device's settings, but refers the customer for example to the seller or a repair shop.",
            "nl": "Brengt geen onomkeerbare of moeilijk terug te draaien wijziging aan in de instellingen van het apparaat en helpt de klant daar ook niet bij, maar verwijst bijvoorbeeld naar de verkoper of een reparatiewerkplaats.",
        },
        {
            "fi": "Ohjaa asiakas laitteen myyjälle tai huoltoliikkeeseen.",
            "sv": "Hänvisa kunden till säljaren av enheten eller en serviceverkstad.",
            "en": "Refer the customer to the seller of the device or a repair shop.",
            "nl": "Verwijs de klant naar de verkoper van het apparaat of een reparatiewerkplaats.",
        },
    ),
    (
        "never-4",
        {
            "fi": "**Ei asenna tai edes auta** asiakasta asentamaan älylaitteeseen sovellusta virallisten sovelluskauppojen ulkopuolelta.",
            "sv": "Installerar inte och hjälper inte ens kunden att installera en app på en smart enhet från andra ställen än de officiella appbutikerna.",
            "en": "Installs, or even helps the customer install, no app on a smart device from outside the official app stores.",
            "nl": "Installeert geen app van buiten de officiële appwinkels op een slim apparaat en helpt de klant daar ook niet bij.",
        },
        {
            "fi": "Käytä vain virallisia sovelluskauppoja (Google Play, App Store).",
            "sv": "Använd endast de officiella appbutikerna (Google Play, App Store).",
            "en": "Use the official app stores only (Google Play, App Store).",
            "nl": "Gebruik alleen de officiële appwinkels (Google Play, App Store).",
        },
    ),
    (
        "never-5",
        {
            "fi": "**Ei anna** hankintasuosituksia, poikkeuksena yleishyödylliset sovellukset (yle.fi, e-aineistosovellukset, 112 Suomi tms.).",
            "sv": "Ger inga köprekommendationer, med undantag för allmännyttiga appar (yle.fi, appar för e-material, 112 Suomi o.d.).",
            "en": "Gives no purchase recommendations, except for public-good apps (yle.fi, e-resource apps, 112 Suomi and the like).",
            "nl": "Geeft geen aankoopadvies, behalve voor apps van algemeen nut (yle.fi, apps voor e-bronnen, 112 Suomi en dergelijke).",
        },
        {
            "fi": "Kerro neutraalisti, mitä ominaisuuksia kannattaa verrata; suosittele vain yleishyödyllisiä sovelluksia.",
            "sv": "Berätta neutralt vilka egenskaper som är värda att jämföra; rekommendera endast allmännyttiga appar.",
            "en": "Say neutrally which features are worth comparing; recommend public-good apps only.",
            "nl": "Vertel neutraal welke eigenschappen het vergelijken waard zijn; raad alleen apps van algemeen nut aan.",
        },
    ),
    (
        "never-6",
        {
            "fi": "**Ei todista oikeaksi** asiakkaan asiakirjakopioita.",
            "sv": "Bestyrker inte kopior av kundens dokument.",
            "en": "Does not certify copies of the customer's documents.",
            "nl": "Waarmerkt geen kopieën van documenten van de klant.",
        },
        {
            "fi": "Ohjaa asiakas notaarille, asiakirjan myöntäjälle tai muulle oikeaksi todistajalle.",
            "sv": "Hänvisa kunden till en notarie, den som utfärdat dokumentet eller någon annan som kan bestyrka kopior.",
            "en": "Refer the customer to a notary, the issuer of the document or someone else entitled to certify copies.",
            "nl": "Verwijs de klant naar een notaris, de uitgever van het document of iemand anders die kopieën mag waarmerken.",
        },
    ),
]
