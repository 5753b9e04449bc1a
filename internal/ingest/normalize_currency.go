package ingest

// isoCurrencies is the set of ISO-4217 codes ingest accepts: the active
// currencies of ISO 4217 list one, plus codes withdrawn since 2023 that late
// or replayed events may still carry (BGN, HRK, SLL, ZWL and ANG, replaced by
// EUR, EUR, SLE, ZWG and XCG). Fund codes (BOV, CHE, CHW, CLF, COU, MXV, USN,
// UYI, UYW), precious metals, bond units, SDR, XSU, XUA and the test and
// no-currency codes (XTS, XXX) are left out on purpose: no purchase is priced
// in them and no ad platform accepts them, so a value in one is a producer's
// mistake to surface in the DLQ.
var isoCurrencies = func() map[string]struct{} {
	codes := []string{
		"AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN",
		"BAM", "BBD", "BDT", "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BRL",
		"BSD", "BTN", "BWP", "BYN", "BZD",
		"CAD", "CDF", "CHF", "CLP", "CNY", "COP", "CRC", "CUP", "CVE", "CZK",
		"DJF", "DKK", "DOP", "DZD",
		"EGP", "ERN", "ETB", "EUR",
		"FJD", "FKP",
		"GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD",
		"HKD", "HNL", "HRK", "HTG", "HUF",
		"IDR", "ILS", "INR", "IQD", "IRR", "ISK",
		"JMD", "JOD", "JPY",
		"KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT",
		"LAK", "LBP", "LKR", "LRD", "LSL", "LYD",
		"MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR",
		"MWK", "MXN", "MYR", "MZN",
		"NAD", "NGN", "NIO", "NOK", "NPR", "NZD",
		"OMR",
		"PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG",
		"QAR",
		"RON", "RSD", "RUB", "RWF",
		"SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SLL", "SOS",
		"SRD", "SSP", "STN", "SVC", "SYP", "SZL",
		"THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS",
		"UAH", "UGX", "USD", "UYU", "UZS",
		"VED", "VES", "VND", "VUV",
		"WST",
		"XAF", "XCD", "XCG", "XOF", "XPF",
		"YER",
		"ZAR", "ZMW", "ZWG", "ZWL",
	}
	m := make(map[string]struct{}, len(codes))
	for _, c := range codes {
		m[c] = struct{}{}
	}
	return m
}()
