package pii

// This file holds the location rules: US states and ISO 3166-1 countries.

// usStateOrLetters folds a state to letters only and maps full US state and
// territory names to their USPS code ("California" → "ca", "New York" →
// "ny"), because Meta wants the two-letter code for US states. Anything else,
// US codes and non-US regions alike, stays as its folded letters.
func usStateOrLetters(s string, _ Options) (string, *Error) {
	k := foldLetters(s)
	if code, ok := usStateCodes[k]; ok {
		return code, nil
	}
	return k, nil
}

// usStateCodes maps folded US state, district and territory names to their
// USPS codes.
var usStateCodes = map[string]string{
	"alabama": "al", "alaska": "ak", "arizona": "az", "arkansas": "ar", "california": "ca",
	"colorado": "co", "connecticut": "ct", "delaware": "de", "florida": "fl", "georgia": "ga",
	"hawaii": "hi", "idaho": "id", "illinois": "il", "indiana": "in", "iowa": "ia",
	"kansas": "ks", "kentucky": "ky", "louisiana": "la", "maine": "me", "maryland": "md",
	"massachusetts": "ma", "michigan": "mi", "minnesota": "mn", "mississippi": "ms", "missouri": "mo",
	"montana": "mt", "nebraska": "ne", "nevada": "nv", "newhampshire": "nh", "newjersey": "nj",
	"newmexico": "nm", "newyork": "ny", "northcarolina": "nc", "northdakota": "nd", "ohio": "oh",
	"oklahoma": "ok", "oregon": "or", "pennsylvania": "pa", "rhodeisland": "ri", "southcarolina": "sc",
	"southdakota": "sd", "tennessee": "tn", "texas": "tx", "utah": "ut", "vermont": "vt",
	"virginia": "va", "washington": "wa", "westvirginia": "wv", "wisconsin": "wi", "wyoming": "wy",
	"districtofcolumbia": "dc", "washingtondc": "dc",
	"americansamoa": "as", "guam": "gu", "northernmarianaislands": "mp", "puertorico": "pr",
	"virginislands": "vi", "usvirginislands": "vi", "unitedstatesvirginislands": "vi",
}

// countryAlpha2 returns the lowercase ISO 3166-1 alpha-2 code for a country
// given as an alpha-2 code ("US", "u.s."), an alpha-3 code ("USA") or one of a
// few common English names ("United Kingdom"). Anything else is rejected, as
// Meta's SDK does: a made-up code would be hashed and silently never match.
func countryAlpha2(s string, _ Options) (string, *Error) {
	k := foldLetters(s)
	switch len(k) {
	case 2:
		if _, ok := alpha2To3[k]; ok {
			return k, nil
		}
	case 3:
		if a2, ok := alpha3To2[k]; ok {
			return a2, nil
		}
	}
	if a2, ok := countryNames[k]; ok {
		return a2, nil
	}
	return "", &Error{Reason: ReasonInvalidCountry, detail: "expected an ISO 3166-1 alpha-2 code such as us"}
}

// alpha2To3 is the complete list of officially assigned ISO 3166-1 codes,
// alpha-2 to alpha-3, lowercase (249 countries and territories).
var alpha2To3 = map[string]string{
	"ad": "and", "ae": "are", "af": "afg", "ag": "atg", "ai": "aia", "al": "alb", "am": "arm", "ao": "ago", "aq": "ata", "ar": "arg", "as": "asm", "at": "aut", "au": "aus", "aw": "abw", "ax": "ala", "az": "aze",
	"ba": "bih", "bb": "brb", "bd": "bgd", "be": "bel", "bf": "bfa", "bg": "bgr", "bh": "bhr", "bi": "bdi", "bj": "ben", "bl": "blm", "bm": "bmu", "bn": "brn", "bo": "bol", "bq": "bes", "br": "bra", "bs": "bhs", "bt": "btn", "bv": "bvt", "bw": "bwa", "by": "blr", "bz": "blz",
	"ca": "can", "cc": "cck", "cd": "cod", "cf": "caf", "cg": "cog", "ch": "che", "ci": "civ", "ck": "cok", "cl": "chl", "cm": "cmr", "cn": "chn", "co": "col", "cr": "cri", "cu": "cub", "cv": "cpv", "cw": "cuw", "cx": "cxr", "cy": "cyp", "cz": "cze",
	"de": "deu", "dj": "dji", "dk": "dnk", "dm": "dma", "do": "dom", "dz": "dza",
	"ec": "ecu", "ee": "est", "eg": "egy", "eh": "esh", "er": "eri", "es": "esp", "et": "eth",
	"fi": "fin", "fj": "fji", "fk": "flk", "fm": "fsm", "fo": "fro", "fr": "fra",
	"ga": "gab", "gb": "gbr", "gd": "grd", "ge": "geo", "gf": "guf", "gg": "ggy", "gh": "gha", "gi": "gib", "gl": "grl", "gm": "gmb", "gn": "gin", "gp": "glp", "gq": "gnq", "gr": "grc", "gs": "sgs", "gt": "gtm", "gu": "gum", "gw": "gnb", "gy": "guy",
	"hk": "hkg", "hm": "hmd", "hn": "hnd", "hr": "hrv", "ht": "hti", "hu": "hun",
	"id": "idn", "ie": "irl", "il": "isr", "im": "imn", "in": "ind", "io": "iot", "iq": "irq", "ir": "irn", "is": "isl", "it": "ita",
	"je": "jey", "jm": "jam", "jo": "jor", "jp": "jpn",
	"ke": "ken", "kg": "kgz", "kh": "khm", "ki": "kir", "km": "com", "kn": "kna", "kp": "prk", "kr": "kor", "kw": "kwt", "ky": "cym", "kz": "kaz",
	"la": "lao", "lb": "lbn", "lc": "lca", "li": "lie", "lk": "lka", "lr": "lbr", "ls": "lso", "lt": "ltu", "lu": "lux", "lv": "lva", "ly": "lby",
	"ma": "mar", "mc": "mco", "md": "mda", "me": "mne", "mf": "maf", "mg": "mdg", "mh": "mhl", "mk": "mkd", "ml": "mli", "mm": "mmr", "mn": "mng", "mo": "mac", "mp": "mnp", "mq": "mtq", "mr": "mrt", "ms": "msr", "mt": "mlt", "mu": "mus", "mv": "mdv", "mw": "mwi", "mx": "mex", "my": "mys", "mz": "moz",
	"na": "nam", "nc": "ncl", "ne": "ner", "nf": "nfk", "ng": "nga", "ni": "nic", "nl": "nld", "no": "nor", "np": "npl", "nr": "nru", "nu": "niu", "nz": "nzl",
	"om": "omn",
	"pa": "pan", "pe": "per", "pf": "pyf", "pg": "png", "ph": "phl", "pk": "pak", "pl": "pol", "pm": "spm", "pn": "pcn", "pr": "pri", "ps": "pse", "pt": "prt", "pw": "plw", "py": "pry",
	"qa": "qat",
	"re": "reu", "ro": "rou", "rs": "srb", "ru": "rus", "rw": "rwa",
	"sa": "sau", "sb": "slb", "sc": "syc", "sd": "sdn", "se": "swe", "sg": "sgp", "sh": "shn", "si": "svn", "sj": "sjm", "sk": "svk", "sl": "sle", "sm": "smr", "sn": "sen", "so": "som", "sr": "sur", "ss": "ssd", "st": "stp", "sv": "slv", "sx": "sxm", "sy": "syr", "sz": "swz",
	"tc": "tca", "td": "tcd", "tf": "atf", "tg": "tgo", "th": "tha", "tj": "tjk", "tk": "tkl", "tl": "tls", "tm": "tkm", "tn": "tun", "to": "ton", "tr": "tur", "tt": "tto", "tv": "tuv", "tw": "twn", "tz": "tza",
	"ua": "ukr", "ug": "uga", "um": "umi", "us": "usa", "uy": "ury", "uz": "uzb",
	"va": "vat", "vc": "vct", "ve": "ven", "vg": "vgb", "vi": "vir", "vn": "vnm", "vu": "vut",
	"wf": "wlf", "ws": "wsm",
	"ye": "yem", "yt": "myt",
	"za": "zaf", "zm": "zmb", "zw": "zwe",
}

// alpha3To2 is alpha2To3 inverted.
var alpha3To2 = func() map[string]string {
	m := make(map[string]string, len(alpha2To3))
	for a2, a3 := range alpha2To3 {
		m[a3] = a2
	}
	return m
}()

// countryNames maps folded common English names and abbreviations that are
// not ISO codes to alpha-2. It is a convenience for messy CRM exports, not a
// gazetteer; unknown names are rejected, never guessed.
var countryNames = map[string]string{
	"unitedstates": "us", "unitedstatesofamerica": "us",
	"uk": "gb", "unitedkingdom": "gb", "greatbritain": "gb", "britain": "gb",
	"england": "gb", "scotland": "gb", "wales": "gb", "northernireland": "gb",
	"canada": "ca", "mexico": "mx", "brazil": "br", "argentina": "ar", "chile": "cl",
	"colombia": "co", "peru": "pe", "germany": "de", "deutschland": "de", "france": "fr",
	"spain": "es", "italy": "it", "portugal": "pt", "netherlands": "nl", "thenetherlands": "nl",
	"holland": "nl", "belgium": "be", "switzerland": "ch", "austria": "at", "ireland": "ie",
	"sweden": "se", "norway": "no", "denmark": "dk", "finland": "fi", "poland": "pl",
	"czechia": "cz", "czechrepublic": "cz", "greece": "gr", "turkey": "tr", "turkiye": "tr",
	"russia": "ru", "ukraine": "ua", "israel": "il", "unitedarabemirates": "ae", "uae": "ae",
	"saudiarabia": "sa", "egypt": "eg", "southafrica": "za", "nigeria": "ng", "kenya": "ke",
	"india": "in", "pakistan": "pk", "china": "cn", "japan": "jp", "southkorea": "kr",
	"taiwan": "tw", "hongkong": "hk", "singapore": "sg", "malaysia": "my",
	"indonesia": "id", "thailand": "th", "vietnam": "vn", "philippines": "ph",
	"australia": "au", "newzealand": "nz",
}
