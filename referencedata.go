package safeguard

import _ "embed"

// PrisonsCSV is the reference list of prisons and young offender institutions in England and
// Wales with their host local authorities (data/prisons.csv; its sources and caveats are in
// data/README.md). It is loaded on first start and can be replaced with `safeguard org import`.
//
//go:embed data/prisons.csv
var PrisonsCSV []byte
