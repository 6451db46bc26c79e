//! Static Swiss reference data for the synthetic company generator.
//!
//! Everything in this module is plain, deterministic `'static` data: real
//! Swiss localities (postcode, locality, canton, language region), street
//! names, first and family names per language region, company name
//! templates, the article catalogue of a small IT & office-services company,
//! bexio units, typical suppliers, expense titles, project templates,
//! timesheet texts and document titles. The generator combines these with a
//! seeded RNG; nothing here is random by itself.

use Lang::{De, Fr, It};

// ---------------------------------------------------------------------------
// Languages and places
// ---------------------------------------------------------------------------

/// Language region of a Swiss place / language of a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    /// German-speaking Switzerland.
    De,
    /// French-speaking Switzerland (Romandie).
    Fr,
    /// Italian-speaking Switzerland (Ticino, Italian Grisons).
    It,
}

impl Lang {
    /// ISO 639-1 code of the language (`"de"`, `"fr"`, `"it"`).
    pub fn iso(self) -> &'static str {
        match self {
            Lang::De => "de",
            Lang::Fr => "fr",
            Lang::It => "it",
        }
    }

    /// bexio `language_id` of the language (de = 1, fr = 2, it = 3).
    pub fn bexio_language_id(self) -> u32 {
        match self {
            Lang::De => 1,
            Lang::Fr => 2,
            Lang::It => 3,
        }
    }
}

/// A real Swiss locality.
#[derive(Debug, Clone, Copy)]
pub struct Place {
    /// Four-digit Swiss postcode (PLZ / NPA).
    pub postcode: &'static str,
    /// Locality as written in postal addresses.
    pub city: &'static str,
    /// Official two-letter canton abbreviation.
    pub canton: &'static str,
    /// Language region the locality belongs to.
    pub lang: Lang,
    /// Relative weight for sampling, roughly proportional to population.
    pub weight: u32,
}

const fn p(
    postcode: &'static str,
    city: &'static str,
    canton: &'static str,
    lang: Lang,
    weight: u32,
) -> Place {
    Place {
        postcode,
        city,
        canton,
        lang,
        weight,
    }
}

/// Real Swiss postcode/locality pairs covering all 26 cantons, weighted
/// roughly by population (about 70% German, 22% French, 8% Italian).
#[rustfmt::skip]
pub static PLACES: &[Place] = &[
    // Zürich
    p("8001", "Zürich", "ZH", De, 60), p("8003", "Zürich", "ZH", De, 30), p("8004", "Zürich", "ZH", De, 30),
    p("8005", "Zürich", "ZH", De, 25), p("8032", "Zürich", "ZH", De, 20), p("8045", "Zürich", "ZH", De, 25),
    p("8048", "Zürich", "ZH", De, 35), p("8050", "Zürich", "ZH", De, 40), p("8057", "Zürich", "ZH", De, 25),
    p("8400", "Winterthur", "ZH", De, 60), p("8404", "Winterthur", "ZH", De, 25), p("8600", "Dübendorf", "ZH", De, 30),
    p("8610", "Uster", "ZH", De, 35), p("8700", "Küsnacht ZH", "ZH", De, 15), p("8800", "Thalwil", "ZH", De, 18),
    p("8810", "Horgen", "ZH", De, 23), p("8820", "Wädenswil", "ZH", De, 25), p("8302", "Kloten", "ZH", De, 20),
    p("8152", "Opfikon", "ZH", De, 20), p("8953", "Dietikon", "ZH", De, 28), p("8952", "Schlieren", "ZH", De, 20),
    p("8304", "Wallisellen", "ZH", De, 17), p("8620", "Wetzikon ZH", "ZH", De, 25), p("8180", "Bülach", "ZH", De, 22),
    p("8702", "Zollikon", "ZH", De, 13), p("8706", "Meilen", "ZH", De, 14), p("8712", "Stäfa", "ZH", De, 15),
    p("8105", "Regensdorf", "ZH", De, 19), p("8134", "Adliswil", "ZH", De, 19), p("8910", "Affoltern am Albis", "ZH", De, 13),
    p("8330", "Pfäffikon ZH", "ZH", De, 12), p("8340", "Hinwil", "ZH", De, 11), p("8630", "Rüti ZH", "ZH", De, 12),
    p("8708", "Männedorf", "ZH", De, 11), p("8902", "Urdorf", "ZH", De, 10),
    // Bern
    p("3011", "Bern", "BE", De, 20), p("3007", "Bern", "BE", De, 15), p("3013", "Bern", "BE", De, 20),
    p("3014", "Bern", "BE", De, 20), p("3018", "Bern", "BE", De, 20), p("3084", "Wabern", "BE", De, 8),
    p("3097", "Liebefeld", "BE", De, 10), p("3123", "Belp", "BE", De, 11), p("3110", "Münsingen", "BE", De, 13),
    p("3600", "Thun", "BE", De, 44), p("3800", "Interlaken", "BE", De, 6), p("3400", "Burgdorf", "BE", De, 17),
    p("4900", "Langenthal", "BE", De, 16), p("2502", "Biel/Bienne", "BE", De, 30), p("2503", "Biel/Bienne", "BE", De, 25),
    p("3250", "Lyss", "BE", De, 15), p("3700", "Spiez", "BE", De, 13), p("3780", "Gstaad", "BE", De, 3),
    p("3860", "Meiringen", "BE", De, 5), p("3550", "Langnau im Emmental", "BE", De, 9), p("3063", "Ittigen", "BE", De, 12),
    p("3072", "Ostermundigen", "BE", De, 18), p("3052", "Zollikofen", "BE", De, 10), p("2520", "La Neuveville", "BE", Fr, 3),
    p("2610", "Saint-Imier", "BE", Fr, 4), p("2710", "Tavannes", "BE", Fr, 2), p("2720", "Tramelan", "BE", Fr, 3),
    // Luzern
    p("6003", "Luzern", "LU", De, 30), p("6005", "Luzern", "LU", De, 25), p("6006", "Luzern", "LU", De, 25),
    p("6020", "Emmenbrücke", "LU", De, 30), p("6030", "Ebikon", "LU", De, 14), p("6210", "Sursee", "LU", De, 10),
    p("6280", "Hochdorf", "LU", De, 10), p("6130", "Willisau", "LU", De, 8), p("6048", "Horw", "LU", De, 14),
    p("6010", "Kriens", "LU", De, 28),
    // Uri, Schwyz, Obwalden, Nidwalden, Glarus, Zug
    p("6460", "Altdorf UR", "UR", De, 9), p("6467", "Schattdorf", "UR", De, 5), p("6490", "Andermatt", "UR", De, 2),
    p("6472", "Erstfeld", "UR", De, 4),
    p("6430", "Schwyz", "SZ", De, 15), p("8808", "Pfäffikon SZ", "SZ", De, 8), p("8840", "Einsiedeln", "SZ", De, 16),
    p("8853", "Lachen SZ", "SZ", De, 9), p("6403", "Küssnacht am Rigi", "SZ", De, 13), p("8832", "Wollerau", "SZ", De, 7),
    p("6060", "Sarnen", "OW", De, 10), p("6064", "Kerns", "OW", De, 6), p("6074", "Giswil", "OW", De, 4),
    p("6370", "Stans", "NW", De, 8), p("6052", "Hergiswil NW", "NW", De, 6), p("6362", "Stansstad", "NW", De, 5),
    p("8750", "Glarus", "GL", De, 13), p("8752", "Näfels", "GL", De, 5), p("8762", "Schwanden GL", "GL", De, 4),
    p("8867", "Niederurnen", "GL", De, 4),
    p("6300", "Zug", "ZG", De, 31), p("6330", "Cham", "ZG", De, 17), p("6340", "Baar", "ZG", De, 25),
    p("6312", "Steinhausen", "ZG", De, 10), p("6343", "Rotkreuz", "ZG", De, 8),
    // Fribourg / Freiburg
    p("1700", "Fribourg", "FR", Fr, 29), p("1630", "Bulle", "FR", Fr, 18), p("3280", "Murten", "FR", De, 9),
    p("1680", "Romont FR", "FR", Fr, 4), p("1470", "Estavayer-le-Lac", "FR", Fr, 8), p("1752", "Villars-sur-Glâne", "FR", Fr, 9),
    p("1762", "Givisiez", "FR", Fr, 2), p("3186", "Düdingen", "FR", De, 8), p("1712", "Tafers", "FR", De, 3),
    p("1723", "Marly", "FR", Fr, 6),
    // Solothurn
    p("4500", "Solothurn", "SO", De, 17), p("4600", "Olten", "SO", De, 18), p("2540", "Grenchen", "SO", De, 17),
    p("4702", "Oensingen", "SO", De, 6), p("4528", "Zuchwil", "SO", De, 9), p("4563", "Gerlafingen", "SO", De, 5),
    // Basel-Stadt, Basel-Landschaft
    p("4051", "Basel", "BS", De, 25), p("4052", "Basel", "BS", De, 25), p("4053", "Basel", "BS", De, 25),
    p("4056", "Basel", "BS", De, 25), p("4057", "Basel", "BS", De, 25), p("4058", "Basel", "BS", De, 25),
    p("4125", "Riehen", "BS", De, 21), p("4126", "Bettingen", "BS", De, 1),
    p("4410", "Liestal", "BL", De, 14), p("4102", "Binningen", "BL", De, 15), p("4123", "Allschwil", "BL", De, 21),
    p("4132", "Muttenz", "BL", De, 18), p("4142", "Münchenstein", "BL", De, 12), p("4153", "Reinach BL", "BL", De, 19),
    p("4133", "Pratteln", "BL", De, 16), p("4450", "Sissach", "BL", De, 7), p("4242", "Laufen", "BL", De, 6),
    // Schaffhausen, Appenzell
    p("8200", "Schaffhausen", "SH", De, 37), p("8212", "Neuhausen am Rheinfall", "SH", De, 10),
    p("8240", "Thayngen", "SH", De, 5), p("8260", "Stein am Rhein", "SH", De, 3),
    p("9100", "Herisau", "AR", De, 16), p("9053", "Teufen AR", "AR", De, 6), p("9410", "Heiden", "AR", De, 4),
    p("9050", "Appenzell", "AI", De, 6), p("9108", "Gonten", "AI", De, 1),
    // St. Gallen
    p("9000", "St. Gallen", "SG", De, 40), p("9008", "St. Gallen", "SG", De, 15), p("9500", "Wil SG", "SG", De, 24),
    p("9400", "Rorschach", "SG", De, 9), p("9450", "Altstätten SG", "SG", De, 12), p("9470", "Buchs SG", "SG", De, 13),
    p("8887", "Mels", "SG", De, 9), p("7320", "Sargans", "SG", De, 6), p("9630", "Wattwil", "SG", De, 9),
    p("9200", "Gossau SG", "SG", De, 18), p("9240", "Uzwil", "SG", De, 13), p("8640", "Rapperswil SG", "SG", De, 16),
    p("8645", "Jona", "SG", De, 16), p("7310", "Bad Ragaz", "SG", De, 6), p("8730", "Uznach", "SG", De, 6),
    // Graubünden / Grigioni / Grischun
    p("7000", "Chur", "GR", De, 38), p("7270", "Davos Platz", "GR", De, 11), p("7500", "St. Moritz", "GR", De, 5),
    p("7130", "Ilanz", "GR", De, 5), p("7302", "Landquart", "GR", De, 9), p("7250", "Klosters", "GR", De, 4),
    p("7550", "Scuol", "GR", De, 5), p("7742", "Poschiavo", "GR", It, 4), p("6535", "Roveredo GR", "GR", It, 4),
    // Aargau
    p("5000", "Aarau", "AG", De, 22), p("5400", "Baden", "AG", De, 20), p("5430", "Wettingen", "AG", De, 21),
    p("5200", "Brugg AG", "AG", De, 12), p("5600", "Lenzburg", "AG", De, 11), p("4800", "Zofingen", "AG", De, 12),
    p("5610", "Wohlen AG", "AG", De, 17), p("8957", "Spreitenbach", "AG", De, 12), p("4310", "Rheinfelden", "AG", De, 14),
    p("5620", "Bremgarten AG", "AG", De, 8), p("5734", "Reinach AG", "AG", De, 9), p("5630", "Muri AG", "AG", De, 8),
    p("4665", "Oftringen", "AG", De, 14), p("5070", "Frick", "AG", De, 6),
    // Thurgau
    p("8500", "Frauenfeld", "TG", De, 26), p("8280", "Kreuzlingen", "TG", De, 23), p("8570", "Weinfelden", "TG", De, 12),
    p("9320", "Arbon", "TG", De, 15), p("8590", "Romanshorn", "TG", De, 11), p("8580", "Amriswil", "TG", De, 14),
    p("9220", "Bischofszell", "TG", De, 6), p("8360", "Eschlikon TG", "TG", De, 4),
    // Ticino
    p("6900", "Lugano", "TI", It, 81), p("6500", "Bellinzona", "TI", It, 59), p("6600", "Locarno", "TI", It, 22),
    p("6850", "Mendrisio", "TI", It, 20), p("6830", "Chiasso", "TI", It, 11), p("6612", "Ascona", "TI", It, 8),
    p("6616", "Losone", "TI", It, 9), p("6710", "Biasca", "TI", It, 8), p("6780", "Airolo", "TI", It, 3),
    p("6900", "Massagno", "TI", It, 8), p("6962", "Viganello", "TI", It, 9), p("6648", "Minusio", "TI", It, 9),
    p("6828", "Balerna", "TI", It, 4), p("6834", "Morbio Inferiore", "TI", It, 7), p("6987", "Caslano", "TI", It, 5),
    p("6982", "Agno", "TI", It, 7), p("6814", "Lamone", "TI", It, 3), p("6807", "Taverne", "TI", It, 4),
    p("6855", "Stabio", "TI", It, 7), p("6593", "Cadenazzo", "TI", It, 4), p("6596", "Gordola", "TI", It, 7),
    p("6600", "Muralto", "TI", It, 4), p("6942", "Savosa", "TI", It, 3), p("6930", "Bedano", "TI", It, 3),
    // Vaud
    p("1003", "Lausanne", "VD", Fr, 23), p("1004", "Lausanne", "VD", Fr, 27), p("1005", "Lausanne", "VD", Fr, 19),
    p("1006", "Lausanne", "VD", Fr, 19), p("1007", "Lausanne", "VD", Fr, 19), p("1018", "Lausanne", "VD", Fr, 15),
    p("1400", "Yverdon-les-Bains", "VD", Fr, 23), p("1820", "Montreux", "VD", Fr, 20), p("1800", "Vevey", "VD", Fr, 15),
    p("1110", "Morges", "VD", Fr, 12), p("1260", "Nyon", "VD", Fr, 17), p("1020", "Renens VD", "VD", Fr, 16),
    p("1009", "Pully", "VD", Fr, 14), p("1030", "Bussigny", "VD", Fr, 7), p("1008", "Prilly", "VD", Fr, 9),
    p("1860", "Aigle", "VD", Fr, 8), p("1450", "Sainte-Croix", "VD", Fr, 3), p("1530", "Payerne", "VD", Fr, 8),
    p("1510", "Moudon", "VD", Fr, 5), p("1196", "Gland", "VD", Fr, 10), p("1197", "Prangins", "VD", Fr, 3),
    p("1095", "Lutry", "VD", Fr, 8), p("1052", "Le Mont-sur-Lausanne", "VD", Fr, 7), p("1040", "Echallens", "VD", Fr, 5),
    p("1337", "Vallorbe", "VD", Fr, 3),
    // Genève
    p("1201", "Genève", "GE", Fr, 23), p("1202", "Genève", "GE", Fr, 23), p("1203", "Genève", "GE", Fr, 23),
    p("1204", "Genève", "GE", Fr, 15), p("1205", "Genève", "GE", Fr, 23), p("1207", "Genève", "GE", Fr, 19),
    p("1227", "Carouge GE", "GE", Fr, 17), p("1213", "Onex", "GE", Fr, 14), p("1212", "Grand-Lancy", "GE", Fr, 15),
    p("1214", "Vernier", "GE", Fr, 27), p("1217", "Meyrin", "GE", Fr, 20), p("1225", "Chêne-Bourg", "GE", Fr, 7),
    p("1224", "Chêne-Bougeries", "GE", Fr, 9), p("1226", "Thônex", "GE", Fr, 11), p("1290", "Versoix", "GE", Fr, 11),
    p("1223", "Cologny", "GE", Fr, 5), p("1228", "Plan-les-Ouates", "GE", Fr, 8),
    // Valais / Wallis
    p("1950", "Sion", "VS", Fr, 27), p("1920", "Martigny", "VS", Fr, 15), p("1870", "Monthey", "VS", Fr, 14),
    p("3960", "Sierre", "VS", Fr, 13), p("3900", "Brig", "VS", De, 13), p("3930", "Visp", "VS", De, 8),
    p("3920", "Zermatt", "VS", De, 6), p("1936", "Verbier", "VS", Fr, 2), p("3963", "Crans-Montana", "VS", Fr, 8),
    p("1890", "Saint-Maurice", "VS", Fr, 4),
    // Neuchâtel
    p("2000", "Neuchâtel", "NE", Fr, 34), p("2300", "La Chaux-de-Fonds", "NE", Fr, 28), p("2400", "Le Locle", "NE", Fr, 8),
    p("2016", "Cortaillod", "NE", Fr, 4), p("2072", "Saint-Blaise", "NE", Fr, 2), p("2074", "Marin-Epagnier", "NE", Fr, 4),
    p("2034", "Peseux", "NE", Fr, 5), p("2105", "Travers", "NE", Fr, 1),
    // Jura
    p("2800", "Delémont", "JU", Fr, 10), p("2900", "Porrentruy", "JU", Fr, 5), p("2350", "Saignelégier", "JU", Fr, 2),
    p("2822", "Courroux", "JU", Fr, 2), p("2824", "Vicques", "JU", Fr, 2),
];

// ---------------------------------------------------------------------------
// Streets
// ---------------------------------------------------------------------------

/// Typical street names of German-speaking Switzerland.
#[rustfmt::skip]
pub static STREETS_DE: &[&str] = &[
    "Bahnhofstrasse", "Hauptstrasse", "Dorfstrasse", "Kirchgasse", "Schulstrasse", "Industriestrasse",
    "Poststrasse", "Seestrasse", "Gartenstrasse", "Bergstrasse", "Rosenweg", "Lindenstrasse",
    "Feldstrasse", "Birkenweg", "Sonnenbergstrasse", "Zürcherstrasse", "Bernstrasse", "Luzernerstrasse",
    "Badenerstrasse", "Weinbergstrasse", "Mühlestrasse", "Kirchstrasse", "Rathausgasse", "Marktgasse",
    "Spitalgasse", "Neugasse", "Obergasse", "Untere Bahnhofstrasse", "Sägestrasse", "Gewerbestrasse",
    "Wiesenstrasse", "Ahornweg", "Eichenweg", "Tannenweg", "Buchenstrasse", "Rebbergstrasse",
    "Riedstrasse", "Schlossstrasse", "Burgstrasse", "Alpenstrasse", "Quellenstrasse", "Brunnenstrasse",
    "Mattenstrasse", "Dufourstrasse", "Pestalozzistrasse", "Gotthardstrasse", "Rigistrasse", "Pilatusstrasse",
    "Säntisstrasse", "Haldenstrasse", "Steinackerstrasse", "Kasernenstrasse", "Zollstrasse", "Limmatquai",
    "Rennweg", "Löwenstrasse", "Freie Strasse", "Aeschenvorstadt", "Gerechtigkeitsgasse", "Kramgasse",
    "Hertensteinstrasse", "Rheinweg", "Aarestrasse", "Bleicherweg", "Stauffacherstrasse", "Hohlstrasse",
    "Langstrasse", "Militärstrasse", "Bachstrasse", "Grabenstrasse", "Werkstrasse", "Sonnenweg",
    "Hofstrasse", "Schützenstrasse", "Thunstrasse", "Bielstrasse", "St. Gallerstrasse", "Rütistrasse",
];

/// Typical street names of French-speaking Switzerland.
#[rustfmt::skip]
pub static STREETS_FR: &[&str] = &[
    "Rue du Marché", "Rue de la Gare", "Avenue de la Gare", "Grand-Rue", "Rue du Lac", "Chemin des Vignes",
    "Route de Lausanne", "Route de Genève", "Rue du Centre", "Rue de l'Église", "Chemin du Moulin", "Rue des Alpes",
    "Avenue du Léman", "Rue de Lausanne", "Rue du Rhône", "Rue de Carouge", "Boulevard de Grancy", "Avenue de Cour",
    "Rue de Bourg", "Place Saint-François", "Rue Centrale", "Avenue d'Ouchy", "Chemin de la Forêt", "Rue du Château",
    "Rue de la Poste", "Route de Berne", "Rue des Fleurs", "Chemin des Pâquerettes", "Rue de la Paix", "Avenue de France",
    "Rue du Temple", "Rue de la Servette", "Boulevard Carl-Vogt", "Rue de la Croix-d'Or", "Quai du Mont-Blanc", "Rue du Stand",
    "Avenue de Rumine", "Chemin de Bellevue", "Rue des Moulins", "Route du Jura", "Rue du Collège", "Rue de l'Hôpital",
    "Rue des Granges", "Chemin du Levant", "Avenue des Bains", "Rue du Simplon", "Avenue de la Plaine", "Rue des Terreaux",
    "Rue de Neuchâtel", "Rue du Seyon", "Avenue Léopold-Robert", "Rue de la Serre", "Rue du Progrès", "Route de Fribourg",
    "Rue de Romont", "Boulevard de Pérolles", "Chemin des Écoliers", "Chemin de la Prairie", "Rue des Cèdres", "Avenue des Alpes",
    "Route Cantonale", "Rue du Nord", "Rue du Midi", "Chemin du Crêt", "Rue de Genève", "Avenue du Général-Guisan",
];

/// Typical street names of Italian-speaking Switzerland.
#[rustfmt::skip]
pub static STREETS_IT: &[&str] = &[
    "Via Nassa", "Via Cantonale", "Via San Gottardo", "Via della Stazione", "Via Pretorio", "Via Lugano",
    "Via Bellinzona", "Via Locarno", "Piazza Grande", "Via Cattedrale", "Corso Elvezia", "Via Canova",
    "Via Giuseppe Motta", "Via Peri", "Via Trevano", "Via Besso", "Via Ciseri", "Via Zurigo",
    "Via Ginevra", "Via Berna", "Via Soave", "Via Vegezzi", "Via Chiesa", "Via dei Fiori",
    "Via al Lago", "Via Monte Ceneri", "Via Borghetto", "Via Cassarinetta", "Via Luganetto", "Via Industria",
    "Via Vignola", "Via Campagna", "Via Molino", "Via Ronco", "Via Castello", "Via alla Torre",
    "Via ai Monti", "Via Municipio", "Via Pian Scairolo", "Via Sempione", "Via Stefano Franscini", "Via Vincenzo Vela",
    "Via Lavizzari", "Via Simen", "Via Dogana", "Via Mirasole", "Via Orico", "Viale Stazione",
    "Piazza Collegiata", "Piazza Indipendenza", "Via Varenna", "Via Cittadella", "Via Rusca", "Via della Posta",
    "Via Borgo", "Via Verbano", "Via Collina", "Via Ponte Tresa", "Via Cantonetto", "Via Serafino Balestra",
    "Via Magatti", "Via Laveggio", "Via Bagutti", "Via delle Scuole", "Via San Carlo", "Via Sorengo",
    "Via Emilio Maraini", "Via Landriani", "Via Generale Guisan", "Via Boschetto", "Via Prati", "Riva Albertolli",
];

/// Street names of the given language region.
pub fn streets(lang: Lang) -> &'static [&'static str] {
    match lang {
        Lang::De => STREETS_DE,
        Lang::Fr => STREETS_FR,
        Lang::It => STREETS_IT,
    }
}

// ---------------------------------------------------------------------------
// Person names
// ---------------------------------------------------------------------------

/// Common male first names in German-speaking Switzerland.
#[rustfmt::skip]
pub static FIRST_NAMES_MALE_DE: &[&str] = &[
    "Daniel", "Thomas", "Peter", "Martin", "Andreas", "Christian", "Stefan", "Markus", "Michael", "Marco",
    "Patrick", "David", "Simon", "Lukas", "Reto", "Urs", "Beat", "Hans", "Bruno", "Roland",
    "Matthias", "Philipp", "Fabian", "Kevin", "Pascal", "Adrian", "Jonas", "Luca", "Noah", "Samuel",
    "Tobias", "Roger", "René", "Walter", "Werner", "Jürg", "Rolf", "Ueli", "Raphael", "Dominik",
    "Florian", "Manuel", "Sandro", "Silvan", "Remo", "Severin",
];

/// Common female first names in German-speaking Switzerland.
#[rustfmt::skip]
pub static FIRST_NAMES_FEMALE_DE: &[&str] = &[
    "Anna", "Maria", "Sandra", "Andrea", "Nicole", "Barbara", "Monika", "Daniela", "Claudia", "Katharina",
    "Ursula", "Ruth", "Verena", "Elisabeth", "Susanne", "Brigitte", "Karin", "Sabine", "Petra", "Corinne",
    "Franziska", "Regula", "Esther", "Simone", "Sarah", "Laura", "Lea", "Nina", "Lara", "Julia",
    "Jana", "Michelle", "Céline", "Jasmin", "Melanie", "Stefanie", "Tanja", "Manuela", "Carmen", "Vreni",
    "Heidi", "Rahel", "Seraina", "Mirjam", "Salome", "Annina",
];

/// Common male first names in French-speaking Switzerland.
#[rustfmt::skip]
pub static FIRST_NAMES_MALE_FR: &[&str] = &[
    "Jean", "Pierre", "Philippe", "Alain", "Michel", "Nicolas", "Olivier", "Christophe", "Laurent", "Stéphane",
    "Frédéric", "Patrick", "Jean-Marc", "Jean-Pierre", "François", "Julien", "Sébastien", "Thierry", "Yves", "Pascal",
    "Didier", "Claude", "Bernard", "Jacques", "Luc", "Marc", "Antoine", "Mathieu", "Guillaume", "Maxime",
    "Alexandre", "Raphaël", "Loïc", "Kevin", "Jérôme", "Gilles", "Cédric", "Fabien", "Romain", "Hugo",
    "Théo", "Nathan", "Gabriel", "Jean-Daniel",
];

/// Common female first names in French-speaking Switzerland.
#[rustfmt::skip]
pub static FIRST_NAMES_FEMALE_FR: &[&str] = &[
    "Marie", "Sophie", "Isabelle", "Nathalie", "Catherine", "Christine", "Sylvie", "Françoise", "Monique", "Anne",
    "Valérie", "Sandrine", "Véronique", "Chantal", "Martine", "Nicole", "Céline", "Aurélie", "Camille", "Julie",
    "Laure", "Émilie", "Mélanie", "Caroline", "Stéphanie", "Florence", "Corinne", "Anne-Laure", "Marie-Claude", "Danielle",
    "Josiane", "Mireille", "Chloé", "Léa", "Manon", "Emma", "Océane", "Noémie", "Élodie", "Virginie",
    "Pauline", "Audrey",
];

/// Common male first names in Italian-speaking Switzerland.
#[rustfmt::skip]
pub static FIRST_NAMES_MALE_IT: &[&str] = &[
    "Marco", "Luca", "Paolo", "Andrea", "Giuseppe", "Giovanni", "Francesco", "Alessandro", "Roberto", "Mario",
    "Fabio", "Stefano", "Claudio", "Massimo", "Davide", "Matteo", "Simone", "Lorenzo", "Riccardo", "Daniele",
    "Sergio", "Franco", "Gianni", "Aldo", "Renato", "Mauro", "Fabrizio", "Giorgio", "Carlo", "Angelo",
    "Michele", "Nicola", "Enrico", "Filippo", "Tiziano", "Pietro", "Raffaele", "Samuele", "Gabriele", "Emanuele",
    "Diego", "Elia",
];

/// Common female first names in Italian-speaking Switzerland.
#[rustfmt::skip]
pub static FIRST_NAMES_FEMALE_IT: &[&str] = &[
    "Maria", "Anna", "Laura", "Paola", "Francesca", "Giulia", "Chiara", "Sara", "Elena", "Silvia",
    "Monica", "Barbara", "Roberta", "Daniela", "Cristina", "Federica", "Alessandra", "Valentina", "Michela", "Manuela",
    "Patrizia", "Nadia", "Sonia", "Claudia", "Marisa", "Giovanna", "Rosanna", "Lucia", "Carla", "Franca",
    "Tiziana", "Simona", "Martina", "Alice", "Aurora", "Sofia", "Giorgia", "Elisa", "Ilaria", "Noemi",
    "Beatrice", "Elisabetta",
];

/// Common family names in German-speaking Switzerland.
#[rustfmt::skip]
pub static LAST_NAMES_DE: &[&str] = &[
    "Müller", "Meier", "Schmid", "Keller", "Weber", "Huber", "Schneider", "Meyer", "Steiner", "Fischer",
    "Gerber", "Brunner", "Baumann", "Frei", "Zimmermann", "Moser", "Widmer", "Wyss", "Graf", "Roth",
    "Suter", "Baumgartner", "Bachmann", "Studer", "Bucher", "Berger", "Kaufmann", "Hofmann", "Kälin", "Bühler",
    "Lehmann", "Marti", "Egli", "Schmidt", "Koch", "Kunz", "Hess", "Zürcher", "Wenger", "Sutter",
    "Meister", "Vogel", "Frey", "Schwarz", "Arnold", "Ammann", "Hofer", "Stalder", "Zaugg", "Kuhn",
    "Blaser", "Wirth", "Lüthi", "Hug", "Bieri", "Bosshard", "Gasser", "Imhof", "Christen", "Friedli",
    "Rüegg", "Schärer", "Aebischer", "Zbinden", "Burri", "Tanner", "Brändli", "Schürch", "Hauser", "Siegrist",
    "Flückiger", "Furrer", "Kessler", "Stucki", "Jäggi", "Gut", "Käser", "Rüegsegger", "Zingg", "Ritter",
    "Odermatt", "Amstutz", "Portmann", "Wüthrich", "Hürlimann", "Stocker", "Zwahlen", "Iseli", "Fuchs", "Ziegler",
];

/// Common family names in French-speaking Switzerland.
#[rustfmt::skip]
pub static LAST_NAMES_FR: &[&str] = &[
    "Favre", "Rochat", "Perrin", "Bonvin", "Dubois", "Mottier", "Jaquet", "Pittet", "Cuendet", "Rey",
    "Morand", "Fournier", "Mercier", "Dupuis", "Gay", "Girard", "Python", "Clément", "Blanc", "Bovet",
    "Chappuis", "Monnier", "Pasche", "Bovay", "Cretton", "Berset", "Roulin", "Moret", "Gilliéron", "Jaccard",
    "Vuilleumier", "Jeanneret", "Matthey", "Perret", "Robert", "Huguenin", "Ducommun", "Bourquin", "Sandoz", "Rossier",
    "Reymond", "Chevalley", "Genoud", "Maillard", "Bertholet", "Dufour", "Martin", "Bernard", "Michel", "Roux",
    "Vuille", "Tinguely", "Grandjean", "Bugnon", "Zufferey", "Fellay", "Carron", "Roduit", "Crettenand", "Vouilloz",
    "Métral", "Jordan", "Bochud", "Clerc", "Dévaud", "Savoy", "Masson", "Nicolet", "Delacrétaz", "Golay",
    "Piguet", "Cuénod", "Borel", "Châtelain", "Droz", "Humbert", "Jacot", "Junod", "Leuba", "Magnin",
    "Richard", "Theytaz", "Pellet", "Besson", "Aubert", "Gaillard", "Lambert", "Ducret", "Corboz", "Pache",
];

/// Common family names in Italian-speaking Switzerland.
#[rustfmt::skip]
pub static LAST_NAMES_IT: &[&str] = &[
    "Bernasconi", "Rossi", "Ferrari", "Colombo", "Bianchi", "Fontana", "Galli", "Pedrazzini", "Lurati", "Bottani",
    "Martinoli", "Cattaneo", "Guscetti", "Pellandini", "Regazzoni", "Rusconi", "Gianella", "Soldati", "Beretta", "Bassi",
    "Brenni", "Camponovo", "Canepa", "Caverzasio", "Cereghetti", "Crivelli", "Delcò", "Ferrazzini", "Foletti", "Gianinazzi",
    "Grassi", "Jelmini", "Lepori", "Lombardi", "Maggi", "Mariotta", "Merlini", "Morosoli", "Nessi", "Pagani",
    "Pedroni", "Pelli", "Pini", "Quadri", "Realini", "Riva", "Rezzonico", "Sala", "Sartori", "Snozzi",
    "Solari", "Tamò", "Tognola", "Vanetti", "Vassalli", "Vescovi", "Zanetti", "Zanini", "Zappa", "Zoppi",
    "Bernardoni", "Balestra", "Bertoli", "Bizzini", "Borradori", "Broggini", "Buzzi", "Castelli", "Chiesa", "Conti",
    "Cotti", "Croce", "Fumagalli", "Gallacchi", "Giudici", "Lafranchi", "Maspoli", "Moretti", "Nicoli", "Ortelli",
    "Poretti", "Rampazzi", "Respini", "Robbiani", "Sciaroni", "Stoppa", "Togni", "Valsangiacomo", "Cavadini", "Bernardi",
];

/// First names for the given language region and sex.
pub fn first_names(lang: Lang, female: bool) -> &'static [&'static str] {
    match (lang, female) {
        (Lang::De, false) => FIRST_NAMES_MALE_DE,
        (Lang::De, true) => FIRST_NAMES_FEMALE_DE,
        (Lang::Fr, false) => FIRST_NAMES_MALE_FR,
        (Lang::Fr, true) => FIRST_NAMES_FEMALE_FR,
        (Lang::It, false) => FIRST_NAMES_MALE_IT,
        (Lang::It, true) => FIRST_NAMES_FEMALE_IT,
    }
}

/// Family names for the given language region.
pub fn last_names(lang: Lang) -> &'static [&'static str] {
    match lang {
        Lang::De => LAST_NAMES_DE,
        Lang::Fr => LAST_NAMES_FR,
        Lang::It => LAST_NAMES_IT,
    }
}

// ---------------------------------------------------------------------------
// Company name templates
// ---------------------------------------------------------------------------

/// German company name templates; `{name}` = family name, `{city}` = locality.
#[rustfmt::skip]
pub static COMPANY_TEMPLATES_DE: &[&str] = &[
    "{name} AG", "{name} GmbH", "{name} & Partner AG", "{name} & Partner GmbH", "{name} & Co.",
    "{name} Treuhand AG", "Treuhandbüro {name}", "Architekturbüro {name}", "{name} Architekten AG",
    "Schreinerei {name}", "Schreinerei {name} GmbH", "Garage {name} AG", "Auto {name} AG", "Malergeschäft {name}",
    "{name} Sanitär AG", "Elektro {name} AG", "Bäckerei-Konditorei {name}", "Coiffeur {name}",
    "Arztpraxis Dr. med. {name}", "Zahnarztpraxis Dr. med. dent. {name}", "Gasthof Löwen {city} GmbH",
    "Restaurant {name}", "Hotel Krone {city} AG", "{city} Immobilien AG", "Immobilien {name} GmbH",
    "{name} Informatik GmbH", "{name} IT Solutions AG", "{name} Bau AG", "Holzbau {name} AG",
    "Landwirtschaftliche Genossenschaft {city}", "Wohnbaugenossenschaft {city}", "Turnverein {city}",
    "Spitex-Verein {city}", "Physiotherapie {name}", "Anwaltskanzlei {name}", "{name} Gartenbau GmbH",
    "Druckerei {name} AG", "Metzgerei {name}", "Optik {name} GmbH", "Reisebüro {name} AG", "{name} Haustechnik AG",
];

/// French company name templates; `{name}` = family name, `{city}` = locality.
#[rustfmt::skip]
pub static COMPANY_TEMPLATES_FR: &[&str] = &[
    "{name} SA", "{name} Sàrl", "{name} & Fils SA", "{name} & Associés Sàrl", "Fiduciaire {name} SA",
    "Fiduciaire {name} Sàrl", "Bureau d'architectes {name}", "{name} Architectes SA", "Menuiserie {name} Sàrl",
    "Garage {name} SA", "Carrosserie {name} Sàrl", "Boulangerie-Pâtisserie {name}", "Salon de coiffure {name}",
    "Cabinet médical Dr {name}", "Cabinet dentaire {name}", "Café-Restaurant {name}", "Hôtel du Lac {city} SA",
    "Régie {name} SA", "{city} Immobilier SA", "{name} Informatique Sàrl", "{name} Solutions IT SA",
    "Entreprise de construction {name} SA", "Électricité {name} SA", "Sanitaire {name} Sàrl", "Peinture {name}",
    "Coopérative d'habitation {city}", "Société de développement de {city}", "FC {city}", "Étude {name} avocats",
    "Physiothérapie {name}", "Imprimerie {name} SA", "Boucherie {name}", "Optique {name} Sàrl",
    "{name} Paysagiste Sàrl", "Domaine {name}", "Cave {name} & Fils", "Association {city} Sports",
];

/// Italian company name templates; `{name}` = family name, `{city}` = locality.
#[rustfmt::skip]
pub static COMPANY_TEMPLATES_IT: &[&str] = &[
    "{name} SA", "{name} Sagl", "{name} & Figli SA", "{name} & Partners Sagl", "Fiduciaria {name} SA",
    "Fiduciaria {name} Sagl", "Studio d'architettura {name}", "{name} Architetti Sagl", "Falegnameria {name}",
    "Garage {name} SA", "Carrozzeria {name} Sagl", "Panetteria {name}", "Parrucchiera {name}",
    "Studio medico Dr. {name}", "Studio dentistico {name}", "Ristorante {name}", "Grotto {name}",
    "Albergo {city} SA", "{city} Immobiliare SA", "Immobiliare {name} Sagl", "{name} Informatica Sagl",
    "{name} IT Services SA", "Impresa costruzioni {name} SA", "Elettricità {name} SA", "Sanitari {name} Sagl",
    "Pittura {name}", "Cooperativa d'abitazione {city}", "Associazione {city} Sport", "FC {city}",
    "Studio legale {name}", "Fisioterapia {name}", "Tipografia {name} SA", "Macelleria {name}",
    "Ottica {name} Sagl", "Giardinaggio {name}", "Studio {name} Sagl", "Cantina {name}",
];

/// Company name templates of the given language region.
pub fn company_templates(lang: Lang) -> &'static [&'static str] {
    match lang {
        Lang::De => COMPANY_TEMPLATES_DE,
        Lang::Fr => COMPANY_TEMPLATES_FR,
        Lang::It => COMPANY_TEMPLATES_IT,
    }
}

// ---------------------------------------------------------------------------
// Articles
// ---------------------------------------------------------------------------

/// VAT class of an article (Swiss MWST): Standard 8.1% (7.7% before 2024),
/// Reduced 2.6% (2.5%), Accommodation 3.8% (3.7%).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VatClass {
    /// Normalsatz: 8.1% from 2024, 7.7% before.
    Standard,
    /// Reduzierter Satz (food, books, ...): 2.6% from 2024, 2.5% before.
    Reduced,
    /// Sondersatz Beherbergung: 3.8% from 2024, 3.7% before.
    Accommodation,
}

impl VatClass {
    /// VAT rate in percent as a decimal string, valid in the given calendar year.
    pub fn rate_percent(self, year: i32) -> &'static str {
        let from_2024 = year >= 2024;
        match (self, from_2024) {
            (VatClass::Standard, true) => "8.1",
            (VatClass::Standard, false) => "7.7",
            (VatClass::Reduced, true) => "2.6",
            (VatClass::Reduced, false) => "2.5",
            (VatClass::Accommodation, true) => "3.8",
            (VatClass::Accommodation, false) => "3.7",
        }
    }
}

/// Whether an article is a physical product (bexio article_type_id 1) or a service (2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArticleKind {
    /// Physical or resold product (bexio `article_type_id` 1).
    Product,
    /// Service (bexio `article_type_id` 2).
    Service,
}

impl ArticleKind {
    /// bexio `article_type_id` (product = 1, service = 2).
    pub fn bexio_article_type_id(self) -> u32 {
        match self {
            ArticleKind::Product => 1,
            ArticleKind::Service => 2,
        }
    }
}

/// One catalogue item of the company.
#[derive(Debug, Clone, Copy)]
pub struct ArticleSpec {
    /// bexio `intern_code`, e.g. `"HW-NB-14"`.
    pub code: &'static str,
    /// German `intern_name`.
    pub name: &'static str,
    /// One short German description line.
    pub description: &'static str,
    /// Product or service.
    pub kind: ArticleKind,
    /// Unit name; one of [`UNITS`].
    pub unit: &'static str,
    /// Sale price in CHF excl. VAT, decimal string with two decimals.
    pub sale_price: &'static str,
    /// Purchase price in CHF (products only), below the sale price.
    pub purchase_price: Option<&'static str>,
    /// VAT class.
    pub vat: VatClass,
}

const fn prod(
    code: &'static str,
    name: &'static str,
    description: &'static str,
    unit: &'static str,
    sale_price: &'static str,
    purchase_price: &'static str,
    vat: VatClass,
) -> ArticleSpec {
    ArticleSpec {
        code,
        name,
        description,
        kind: ArticleKind::Product,
        unit,
        sale_price,
        purchase_price: Some(purchase_price),
        vat,
    }
}

const fn svc(
    code: &'static str,
    name: &'static str,
    description: &'static str,
    unit: &'static str,
    sale_price: &'static str,
    vat: VatClass,
) -> ArticleSpec {
    ArticleSpec {
        code,
        name,
        description,
        kind: ArticleKind::Service,
        unit,
        sale_price,
        purchase_price: None,
        vat,
    }
}

const STD: VatClass = VatClass::Standard;
const RED: VatClass = VatClass::Reduced;
const ACC: VatClass = VatClass::Accommodation;

/// Article catalogue: hardware, peripherals, software licences,
/// subscriptions, hourly services, flat-rate packages, travel/expenses,
/// a few reduced-rate items and hotel nights.
#[rustfmt::skip]
pub static ARTICLES: &[ArticleSpec] = &[
    // Hardware
    prod("HW-NB-14", "Notebook 14\" Business", "Business-Notebook 14\", Core i5, 16 GB RAM, 512 GB SSD, Win 11 Pro", "Stk", "1290.00", "985.00", STD),
    prod("HW-NB-16", "Notebook 16\" Performance", "Notebook 16\", Core i7, 32 GB RAM, 1 TB SSD, dedizierte Grafik", "Stk", "1890.00", "1455.00", STD),
    prod("HW-NB-13U", "Ultrabook 13\"", "Leichtes Ultrabook 13\", 16 GB RAM, 512 GB SSD, LTE", "Stk", "1590.00", "1220.00", STD),
    prod("HW-PC-SFF", "Desktop-PC Small Form Factor", "Arbeitsplatz-PC SFF, Core i5, 16 GB RAM, 512 GB SSD", "Stk", "990.00", "745.00", STD),
    prod("HW-PC-WS", "Workstation CAD", "CAD-Workstation, Xeon, 64 GB RAM, Profi-Grafikkarte", "Stk", "2890.00", "2260.00", STD),
    prod("HW-MON-24", "Monitor 24\" Full HD", "Bildschirm 24\" IPS, 1920x1080, höhenverstellbar", "Stk", "219.00", "158.00", STD),
    prod("HW-MON-27", "Monitor 27\" QHD USB-C", "Bildschirm 27\" QHD mit USB-C-Anschluss (90 W)", "Stk", "449.00", "329.00", STD),
    prod("HW-MON-34", "Monitor 34\" Curved", "Ultrawide-Bildschirm 34\" Curved, 3440x1440", "Stk", "749.00", "560.00", STD),
    prod("HW-DOCK", "Docking Station USB-C", "Universal-Dock USB-C, 2x DisplayPort, LAN, 100 W", "Stk", "249.00", "172.00", STD),
    prod("HW-KB-MS", "Tastatur/Maus-Set kabellos", "Funk-Set Tastatur und Maus, Layout CH", "Stk", "89.00", "54.00", STD),
    prod("HW-HEADSET", "Headset Stereo USB", "Headset mit Geräuschunterdrückung, Teams-zertifiziert", "Stk", "139.00", "92.00", STD),
    prod("HW-WEBCAM", "Webcam Full HD", "Webcam 1080p mit Mikrofon und Abdeckung", "Stk", "119.00", "78.00", STD),
    prod("HW-PRN-MFP", "Multifunktionsdrucker A4 Farblaser", "Drucken, Scannen, Kopieren, Duplex, LAN/WLAN", "Stk", "690.00", "495.00", STD),
    prod("HW-PRN-TONER", "Tonerkartusche Schwarz", "Original-Toner schwarz für Multifunktionsdrucker A4", "Stk", "129.00", "86.00", STD),
    prod("HW-SRV-TWR", "Server Tower", "Tower-Server 1 CPU, 64 GB RAM, 4x 1.92 TB SSD RAID", "Stk", "4890.00", "3790.00", STD),
    prod("HW-NAS-4", "NAS 4-Bay inkl. Disks", "Netzwerkspeicher 4-Bay inkl. 4x 8 TB NAS-Festplatten", "Stk", "1690.00", "1290.00", STD),
    prod("HW-SW-24", "Switch 24 Port PoE", "Managed Switch 24x Gigabit PoE+, 4x SFP+", "Stk", "890.00", "640.00", STD),
    prod("HW-FW", "Firewall Appliance KMU", "Next-Generation-Firewall für bis 50 Benutzer", "Stk", "1190.00", "860.00", STD),
    prod("HW-AP", "WLAN Access Point Wi-Fi 6", "Access Point Wi-Fi 6, Deckenmontage, PoE", "Stk", "329.00", "231.00", STD),
    prod("HW-USV", "USV 1500 VA", "Unterbrechungsfreie Stromversorgung 1500 VA, Line-Interactive", "Stk", "490.00", "345.00", STD),
    prod("HW-SSD-1TB", "SSD 1 TB NVMe", "SSD M.2 NVMe 1 TB, Aufrüstung", "Stk", "139.00", "89.00", STD),
    prod("HW-RAM-16", "Arbeitsspeicher 16 GB", "RAM-Modul 16 GB DDR5 SO-DIMM", "Stk", "89.00", "56.00", STD),
    prod("HW-CABLE-5", "Patchkabel Cat6 5 m", "Netzwerkkabel Cat6 S/FTP, 5 m", "Stk", "9.50", "3.80", STD),
    prod("HW-PHONE", "Smartphone Business 128 GB", "Smartphone 128 GB inkl. Schutzhülle und Panzerglas", "Stk", "849.00", "690.00", STD),
    prod("HW-TABLET", "Tablet 11\" WLAN", "Tablet 11\", 128 GB, WLAN", "Stk", "649.00", "520.00", STD),
    prod("HW-IPTEL", "IP-Tischtelefon", "SIP-Tischtelefon mit Farbdisplay, PoE", "Stk", "219.00", "148.00", STD),
    prod("HW-RACK", "Serverschrank 19\" 12 HE", "Wandverteiler 19\", 12 HE, Glastür, abschliessbar", "Stk", "590.00", "410.00", STD),
    prod("HW-BAG", "Notebook-Tasche 15.6\"", "Notebook-Tasche gepolstert bis 15.6\"", "Stk", "59.00", "32.00", STD),
    // Software licences (resold)
    prod("SW-M365-BB", "Microsoft 365 Business Basic", "Lizenz pro Benutzer und Monat, Jahresbindung", "Monat", "6.20", "5.10", STD),
    prod("SW-M365-BS", "Microsoft 365 Business Standard", "Lizenz pro Benutzer und Monat, Jahresbindung", "Monat", "12.90", "10.90", STD),
    prod("SW-M365-BP", "Microsoft 365 Business Premium", "Lizenz pro Benutzer und Monat, Jahresbindung", "Monat", "22.90", "19.40", STD),
    prod("SW-WIN11-PRO", "Windows 11 Pro", "Betriebssystem-Lizenz Windows 11 Pro", "Lizenz", "259.00", "199.00", STD),
    prod("SW-OFFICE-HB", "Office Home & Business 2024", "Dauerlizenz für einen PC oder Mac", "Lizenz", "329.00", "259.00", STD),
    prod("SW-AV-Y", "Endpoint Security Jahreslizenz", "Virenschutz und EDR pro Gerät, 12 Monate", "Jahr", "49.00", "34.00", STD),
    prod("SW-BACKUP-Y", "Backup-Software Server", "Backup-Lizenz für einen Server, 12 Monate inkl. Updates", "Jahr", "590.00", "440.00", STD),
    prod("SW-ADOBE-CC", "Adobe Creative Cloud All Apps", "Teams-Lizenz pro Benutzer, 12 Monate", "Jahr", "1090.00", "925.00", STD),
    prod("SW-PDF-Y", "PDF-Editor Pro", "PDF-Software pro Benutzer, 12 Monate", "Jahr", "189.00", "145.00", STD),
    // Subscriptions
    svc("SUB-SUPPORT-S", "Supportvertrag Basic", "Support zu Bürozeiten, Reaktionszeit 8 h, monatlich", "Monat", "190.00", STD),
    svc("SUB-SUPPORT-M", "Supportvertrag Business", "Support inkl. 2 h Arbeitszeit, Reaktionszeit 4 h, monatlich", "Monat", "390.00", STD),
    svc("SUB-SUPPORT-L", "Supportvertrag Premium", "Support inkl. 5 h Arbeitszeit, Reaktionszeit 2 h, monatlich", "Monat", "790.00", STD),
    svc("SUB-MWP", "Managed Workplace", "Überwachung, Patch-Management und Fernwartung pro Arbeitsplatz", "Monat", "39.00", STD),
    svc("SUB-MSRV", "Managed Server Monitoring", "24/7-Überwachung und Updates pro Server", "Monat", "149.00", STD),
    svc("SUB-CLOUD-BACKUP", "Cloud-Backup 500 GB", "Verschlüsseltes Backup in Schweizer Rechenzentrum", "Monat", "49.00", STD),
    svc("SUB-HOSTING", "Webhosting KMU", "Webhosting inkl. SSL-Zertifikat und tägliches Backup", "Monat", "29.00", STD),
    svc("SUB-DOMAIN", "Domain .ch inkl. DNS", "Registrierung und DNS-Verwaltung einer .ch-Domain", "Jahr", "25.00", STD),
    svc("SUB-MAILSEC", "E-Mail-Security", "Spam- und Malware-Filter pro Postfach", "Monat", "4.50", STD),
    svc("SUB-WARTUNG-Y", "Wartungsvertrag Jahrespauschale", "Jährliche Wartung der IT-Infrastruktur inkl. 2 Vor-Ort-Checks", "Jahr", "2400.00", STD),
    svc("SUB-FW-Y", "Firewall-Lizenz & Updates", "Security-Abonnement der Firewall, 12 Monate", "Jahr", "390.00", STD),
    // Hourly and daily services
    svc("SV-HOUR-JR", "Dienstleistung Techniker", "Arbeitszeit Support-Techniker", "h", "125.00", STD),
    svc("SV-HOUR-SR", "Dienstleistung Senior Engineer", "Arbeitszeit Senior System Engineer", "h", "165.00", STD),
    svc("SV-HOUR-PL", "Projektleitung", "Projektleitung und Koordination", "h", "185.00", STD),
    svc("SV-HOUR-CONS", "Beratung", "IT-Beratung und Konzeption", "h", "195.00", STD),
    svc("SV-HOUR-DEV", "Softwareentwicklung", "Entwicklung, Scripting und Schnittstellen", "h", "170.00", STD),
    svc("SV-HOUR-TRAIN", "Schulung", "Anwenderschulung vor Ort oder online", "h", "150.00", STD),
    svc("SV-HOUR-REMOTE", "Fernwartung", "Remote-Support, Abrechnung pro angefangene 15 Minuten", "h", "140.00", STD),
    svc("SV-HOUR-SURCH", "Zuschlag Nacht-/Wochenendarbeit", "Zuschlag für Einsätze ausserhalb der Bürozeiten", "h", "80.00", STD),
    svc("SV-DAY-WORKSHOP", "Workshop Tagespauschale", "Workshop ganztägig inkl. Vorbereitung", "Tag", "1480.00", STD),
    svc("SV-DAY-SR", "Tagessatz Senior Engineer", "Einsatz Senior System Engineer, 8 Stunden", "Tag", "1320.00", STD),
    // Flat-rate packages
    svc("PK-SETUP-NB", "Einrichtung Notebook", "Installation, Updates, Software und Datenübernahme", "Pauschal", "190.00", STD),
    svc("PK-SETUP-PC", "Einrichtung Arbeitsplatz", "Aufbau und Einrichtung Arbeitsplatz inkl. Peripherie", "Pauschal", "240.00", STD),
    svc("PK-SETUP-PRN", "Druckerinstallation", "Installation und Einbindung Drucker im Netzwerk", "Pauschal", "120.00", STD),
    svc("PK-M365-MIG", "Migration Postfach Microsoft 365", "Migration eines Postfachs inkl. Kalender und Kontakte", "Pauschal", "95.00", STD),
    svc("PK-SRV-INST", "Serverinstallation", "Installation und Grundkonfiguration Server", "Pauschal", "1950.00", STD),
    svc("PK-FW-CONF", "Firewall-Konfiguration", "Konfiguration Firewall inkl. VPN-Zugang", "Pauschal", "680.00", STD),
    svc("PK-WLAN", "WLAN-Ausleuchtung & Einrichtung", "Ausleuchtung, Montage und Konfiguration WLAN", "Pauschal", "890.00", STD),
    svc("PK-DISPOSAL", "Entsorgung Altgerät", "Fachgerechte Entsorgung inkl. zertifizierter Datenlöschung", "Stk", "45.00", STD),
    svc("PK-ONBOARD", "IT-Audit Neukunde", "Bestandesaufnahme und Dokumentation der IT-Infrastruktur", "Pauschal", "750.00", STD),
    svc("PK-BACKUP-CHECK", "Backup-Check & Restore-Test", "Prüfung der Datensicherung inkl. Wiederherstellungstest", "Pauschal", "290.00", STD),
    // Travel and expenses
    svc("EX-KM", "Fahrspesen", "Fahrzeugentschädigung pro Kilometer", "km", "0.80", STD),
    svc("EX-TRAVEL-REG", "Anfahrtspauschale Region", "Anfahrt innerhalb der Region", "Pauschal", "60.00", STD),
    svc("EX-TRAVEL-FAR", "Anfahrtspauschale ausserkantonal", "Anfahrt ausserhalb des Kantons", "Pauschal", "120.00", STD),
    svc("EX-PARK", "Parkgebühren", "Weiterverrechnete Parkgebühren", "Pauschal", "15.00", STD),
    svc("EX-SHIPPING", "Versandkosten", "Versand mit Die Post, PostPac Priority", "Stk", "14.00", STD),
    // Reduced VAT
    prod("RD-BOOK-M365", "Handbuch Microsoft 365 für KMU", "Fachbuch, gedruckt, deutsch", "Stk", "39.00", "27.00", RED),
    prod("RD-BOOK-NET", "Fachbuch Netzwerktechnik", "Fachbuch Netzwerke und Sicherheit, gedruckt", "Stk", "59.00", "42.00", RED),
    prod("RD-FOOD-LUNCH", "Verpflegung Workshop", "Sandwiches und Mineralwasser pro Person, geliefert", "Stk", "24.00", "16.50", RED),
    prod("RD-FOOD-COFFEE", "Kaffee & Gipfeli", "Znüni für Schulungsteilnehmende pro Person", "Stk", "8.50", "5.60", RED),
    // Accommodation VAT
    svc("AC-HOTEL", "Hotelübernachtung", "Übernachtung inkl. Frühstück bei Einsatz vor Ort", "Nacht", "165.00", ACC),
    svc("AC-HOTEL-CITY", "Hotelübernachtung Stadt", "Übernachtung inkl. Frühstück in Zürich, Genf oder Basel", "Nacht", "235.00", ACC),
];

/// Units as bexio names them (ids are the 1-based index).
#[rustfmt::skip]
pub static UNITS: &[&str] = &["Stk", "h", "Tag", "Monat", "Jahr", "Pauschal", "km", "Nacht", "Lizenz", "Paket", "Min"];

/// bexio unit id (1-based index into [`UNITS`]) for a unit name.
pub fn unit_id(name: &str) -> Option<u32> {
    UNITS
        .iter()
        .position(|u| *u == name)
        .and_then(|i| u32::try_from(i + 1).ok())
}

// ---------------------------------------------------------------------------
// Purchasing, expenses, projects, timesheets, documents
// ---------------------------------------------------------------------------

/// Suppliers with a typical booking title (German) for purchase bills.
#[rustfmt::skip]
pub static SUPPLIERS: &[(&str, &str)] = &[
    ("Swisscom (Schweiz) AG", "Telefon & Internet"),
    ("Sunrise GmbH", "Mobilabonnemente"),
    ("Salt Mobile SA", "Mobilabonnement Geschäftsleitung"),
    ("Die Schweizerische Post AG", "Porto & Versand"),
    ("Schweizerische Bundesbahnen SBB", "Bahnbillette & Halbtax"),
    ("ewz Elektrizitätswerk der Stadt Zürich", "Strom Büro"),
    ("BKW Energie AG", "Strom Lager"),
    ("Livit AG", "Büromiete"),
    ("Wincasa AG", "Nebenkosten Büro"),
    ("ALSO Schweiz AG", "IT-Hardware Einkauf"),
    ("Ingram Micro GmbH", "IT-Hardware & Lizenzen"),
    ("TD SYNNEX Switzerland GmbH", "Server & Netzwerk"),
    ("Brack.ch AG", "Kleinmaterial & Zubehör"),
    ("Digitec Galaxus AG", "Peripherie & Verbrauchsmaterial"),
    ("Microsoft Ireland Operations Ltd", "Microsoft 365 Lizenzen"),
    ("Die Mobiliar Versicherungen", "Betriebshaftpflicht & Sachversicherung"),
    ("AXA Versicherungen AG", "Motorfahrzeugversicherung"),
    ("Suva", "Unfallversicherung UVG"),
    ("SWICA Krankenversicherung AG", "Krankentaggeldversicherung"),
    ("SVA Zürich", "AHV/IV/EO-Beiträge"),
    ("Swiss Life AG", "BVG-Beiträge"),
    ("ISS Facility Services AG", "Büroreinigung"),
    ("Lyreco Switzerland AG", "Büromaterial"),
    ("Hostpoint AG", "Webhosting & Domains"),
    ("Infomaniak Network SA", "Cloud-Speicher & Hosting"),
    ("Green.ch AG", "Rechenzentrum Colocation"),
    ("bexio AG", "Buchhaltungssoftware"),
    ("SwissSign AG", "SSL-Zertifikate"),
    ("BDO AG", "Revision & Jahresabschluss"),
    ("Mobility Genossenschaft", "Carsharing"),
    ("AMAG Leasing AG", "Fahrzeugleasing"),
    ("Migrol AG", "Treibstoff"),
    ("DHL Express (Schweiz) AG", "Kurierdienst"),
    ("Planzer Transport AG", "Warentransport"),
    ("Selecta AG", "Kaffeeautomat & Getränke"),
    ("Canon (Schweiz) AG", "Drucker-Leasing & Klickkosten"),
    ("PostFinance AG", "Kontoführungsgebühren"),
    ("Securitas AG", "Alarmanlage & Bewachung"),
    ("Jobs.ch AG", "Stelleninserat"),
];

/// Employee expense titles (German) for the expense module.
#[rustfmt::skip]
pub static EXPENSE_TITLES: &[&str] = &[
    "Bahnbillett Zürich–Bern", "Bahnbillett Basel–Luzern", "Bahnbillett Winterthur–St. Gallen", "Halbtax-Abo",
    "Parkgebühren", "Parkhaus Kundenbesuch", "Geschäftsessen Kunde", "Mittagessen Kundentermin", "Büromaterial",
    "Druckerpapier", "Fachliteratur", "Kilometerentschädigung Privatauto", "Benzin Geschäftsfahrzeug", "Autobahnvignette",
    "Taxi Flughafen Zürich", "Hotel Genf Kundeneinsatz", "Kursgebühr Weiterbildung", "Kabel & Adapter",
    "Porto Einschreiben", "Natel-Spesen", "Homeoffice-Pauschale", "Apéro Team", "Kaffee & Getränke Büro",
    "Blumen Firmenjubiläum Kunde", "Kundengeschenk", "Eintritt Fachmesse", "Tram-/Busbillett", "Velo-Reparatur Dienstvelo",
    "Mobility Carsharing", "Werkzeug", "Kleinmaterial Montage", "Zertifizierungsprüfung",
];

/// Project name templates (German) with a `{client}` placeholder.
#[rustfmt::skip]
pub static PROJECT_TEMPLATES: &[&str] = &[
    "Netzwerk-Erneuerung {client}", "Website Relaunch {client}", "M365-Migration {client}", "Server-Ersatz {client}",
    "Arbeitsplatz-Rollout {client}", "WLAN-Ausbau {client}", "Firewall-Erneuerung {client}", "Backup-Konzept {client}",
    "IT-Sicherheitsaudit {client}", "Telefonie-Umstellung VoIP {client}", "Umzug Büro {client}", "Cloud-Migration {client}",
    "Windows 11 Rollout {client}", "Druckerflotte {client}", "Datenschutz nDSG {client}", "Teams-Einführung {client}",
    "Intranet SharePoint {client}", "Notebook-Ersatz {client}", "Zugriffsverwaltung MFA {client}", "Disaster Recovery {client}",
    "ERP-Anbindung {client}", "Schulungsprogramm {client}", "Verkabelung Neubau {client}", "Sitzungszimmer AV {client}",
    "IT-Strategie 2025 {client}", "Onlineshop {client}", "Mobile Device Management {client}", "Archivierung {client}",
];

/// Timesheet activity texts (German).
#[rustfmt::skip]
pub static TIMESHEET_TEXTS: &[&str] = &[
    "Analyse Netzwerkproblem", "Installation Notebook", "Einrichtung Benutzerkonto", "Fernwartung Drucker",
    "Windows-Updates eingespielt", "Backup kontrolliert", "Firewall-Regeln angepasst", "VPN-Zugang eingerichtet",
    "Postfachmigration", "Telefonsupport Anwender", "Vor-Ort-Einsatz Störung Server", "Projektsitzung mit Kunde",
    "Offerte erstellt", "Dokumentation nachgeführt", "Schulung Microsoft Teams", "Switch konfiguriert",
    "Access Points montiert", "Verkabelung Büro", "Lizenzverwaltung", "Virenfund bereinigt",
    "Serverinstallation", "Datenübernahme altes Gerät", "Patch-Management", "Monitoring-Alarme geprüft",
    "Konzept erstellt", "Testing und Abnahme", "Interne Weiterbildung", "Administration und Buchhaltung",
    "Ticketbearbeitung", "Workshop Anforderungen", "Restore-Test durchgeführt", "Drucker-Treiber verteilt",
    "MFA eingerichtet", "Anfahrt zum Kunden", "Wochenplanung Team",
];

/// Invoice titles (German); `{client}` is an optional placeholder.
#[rustfmt::skip]
pub static DOCUMENT_TITLES: &[&str] = &[
    "Hardware-Lieferung", "Dienstleistungen", "Wartungsvertrag", "Supportvertrag", "Softwarelizenzen",
    "Microsoft 365 Lizenzen", "Installation & Einrichtung", "Projektabrechnung {client}", "IT-Support", "Netzwerkinstallation",
    "Serverinstallation", "Schulung Mitarbeitende", "Beratung", "Managed Services", "Fernwartung",
    "Arbeitsplatz-Erneuerung", "Druckerlieferung", "Cloud-Backup", "Webhosting & Domain", "Firewall-Erneuerung",
    "Notebook-Lieferung", "Workshop IT-Strategie {client}", "Pikettdienst", "Aufwand gemäss Rapport",
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    const CANTONS: [&str; 26] = [
        "ZH", "BE", "LU", "UR", "SZ", "OW", "NW", "GL", "ZG", "FR", "SO", "BS", "BL", "SH", "AR",
        "AI", "SG", "GR", "AG", "TG", "TI", "VD", "VS", "NE", "GE", "JU",
    ];

    fn assert_unique(name: &str, list: &[&str]) {
        let mut seen = HashSet::new();
        for s in list {
            assert!(!s.trim().is_empty(), "{name}: empty entry");
            assert!(seen.insert(*s), "{name}: duplicate {s}");
        }
    }

    fn price(s: &str) -> f64 {
        let (int, frac) = match s.split_once('.') {
            Some(parts) => parts,
            None => panic!("price {s} has no decimal point"),
        };
        assert!(
            !int.is_empty() && int.bytes().all(|b| b.is_ascii_digit()),
            "bad price {s}"
        );
        assert!(
            frac.len() == 2 && frac.bytes().all(|b| b.is_ascii_digit()),
            "bad price {s}"
        );
        match s.parse::<f64>() {
            Ok(v) => v,
            Err(e) => panic!("price {s}: {e}"),
        }
    }

    #[test]
    fn places_are_valid() {
        assert!(PLACES.len() >= 200);
        let mut seen = HashSet::new();
        for pl in PLACES {
            assert_eq!(pl.postcode.len(), 4, "{:?}", pl);
            assert!(pl.postcode.bytes().all(|b| b.is_ascii_digit()), "{:?}", pl);
            let n: u32 = pl.postcode.parse().unwrap_or(0);
            assert!((1000..=9699).contains(&n), "{:?}", pl);
            assert!(CANTONS.contains(&pl.canton), "{:?}", pl);
            assert!(pl.weight > 0, "{:?}", pl);
            assert!(seen.insert((pl.postcode, pl.city)), "duplicate {:?}", pl);
        }
        let cantons: HashSet<&str> = PLACES.iter().map(|pl| pl.canton).collect();
        assert_eq!(cantons.len(), 26);
    }

    #[test]
    fn language_shares() {
        let total: u32 = PLACES.iter().map(|pl| pl.weight).sum();
        let share = |l: Lang| {
            f64::from(
                PLACES
                    .iter()
                    .filter(|pl| pl.lang == l)
                    .map(|pl| pl.weight)
                    .sum::<u32>(),
            ) / f64::from(total)
        };
        let (de, fr, it) = (share(Lang::De), share(Lang::Fr), share(Lang::It));
        assert!((0.60..=0.80).contains(&de), "de {de}");
        assert!((0.15..=0.30).contains(&fr), "fr {fr}");
        assert!((0.04..=0.12).contains(&it), "it {it}");
    }

    #[test]
    fn lang_ids() {
        assert_eq!(Lang::De.iso(), "de");
        assert_eq!(Lang::Fr.bexio_language_id(), 2);
        assert_eq!(Lang::It.bexio_language_id(), 3);
    }

    #[test]
    fn name_lists_meet_minimums() {
        for lang in [Lang::De, Lang::Fr, Lang::It] {
            assert!(streets(lang).len() >= 60);
            assert!(first_names(lang, false).len() >= 40);
            assert!(first_names(lang, true).len() >= 40);
            assert!(last_names(lang).len() >= 80);
            assert!(company_templates(lang).len() >= 25);
            assert_unique("streets", streets(lang));
            assert_unique("first names m", first_names(lang, false));
            assert_unique("first names f", first_names(lang, true));
            assert_unique("last names", last_names(lang));
            assert_unique("company templates", company_templates(lang));
            for t in company_templates(lang) {
                assert!(
                    t.contains("{name}") || t.contains("{city}"),
                    "template without placeholder: {t}"
                );
            }
        }
    }

    #[test]
    fn articles_are_valid() {
        assert!(ARTICLES.len() >= 60);
        let mut codes = HashSet::new();
        for a in ARTICLES {
            assert!(codes.insert(a.code), "duplicate code {}", a.code);
            assert!(
                UNITS.contains(&a.unit),
                "unknown unit {} in {}",
                a.unit,
                a.code
            );
            let sale = price(a.sale_price);
            assert!(sale > 0.0, "{}", a.code);
            match (a.kind, a.purchase_price) {
                (ArticleKind::Product, Some(pp)) => assert!(price(pp) < sale, "{}", a.code),
                (ArticleKind::Service, None) => {}
                _ => panic!("purchase price only for products: {}", a.code),
            }
        }
        assert!(
            ARTICLES
                .iter()
                .filter(|a| a.vat == VatClass::Reduced)
                .count()
                >= 2
        );
        assert!(
            ARTICLES
                .iter()
                .filter(|a| a.vat == VatClass::Accommodation)
                .count()
                >= 2
        );
        assert!(ARTICLES.iter().any(|a| a.kind == ArticleKind::Service));
        assert!(ARTICLES.iter().any(|a| a.kind == ArticleKind::Product));
    }

    #[test]
    fn units_and_other_lists() {
        for u in [
            "Stk", "h", "Tag", "Monat", "Jahr", "Pauschal", "km", "Nacht", "Lizenz",
        ] {
            assert!(UNITS.contains(&u), "missing unit {u}");
        }
        assert_unique("units", UNITS);
        assert_eq!(unit_id("Stk"), Some(1));
        assert!(SUPPLIERS.len() >= 30);
        let names: Vec<&str> = SUPPLIERS.iter().map(|s| s.0).collect();
        assert_unique("suppliers", &names);
        assert!(EXPENSE_TITLES.len() >= 25);
        assert_unique("expenses", EXPENSE_TITLES);
        assert!(PROJECT_TEMPLATES.len() >= 25);
        assert_unique("projects", PROJECT_TEMPLATES);
        assert!(PROJECT_TEMPLATES.iter().all(|t| t.contains("{client}")));
        assert!(TIMESHEET_TEXTS.len() >= 30);
        assert_unique("timesheets", TIMESHEET_TEXTS);
        assert!(DOCUMENT_TITLES.len() >= 20);
        assert_unique("documents", DOCUMENT_TITLES);
    }

    #[test]
    fn vat_rates() {
        assert_eq!(VatClass::Standard.rate_percent(2023), "7.7");
        assert_eq!(VatClass::Standard.rate_percent(2024), "8.1");
        assert_eq!(VatClass::Reduced.rate_percent(2025), "2.6");
        assert_eq!(VatClass::Accommodation.rate_percent(2022), "3.7");
        assert_eq!(ArticleKind::Service.bexio_article_type_id(), 2);
    }
}
