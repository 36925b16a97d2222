package sql

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/safeguard-project/safeguard"
)

// FindOrganisation returns ENOTFOUND if there is no organisation with that code.
func (db *DB) FindOrganisation(ctx context.Context, code string) (*safeguard.Organisation, error) {
	o, err := db.findOrganisation(ctx, db.DB, code)
	if isNoRows(err) {
		return nil, safeguard.Errorf(safeguard.ENOTFOUND, "no organisation with code %q", code)
	}
	return o, err
}

// UpsertOrganisation validates and creates or replaces an organisation. Concerns already raised
// keep the host LA they were raised under: it is copied onto each concern.
func (db *DB) UpsertOrganisation(ctx context.Context, o *safeguard.Organisation) error {
	if err := o.Validate(); err != nil {
		return err
	}
	return db.inTx(ctx, func(tx *sqlx.Tx) error { return db.upsertOrganisation(ctx, tx, o) })
}

func (db *DB) upsertOrganisation(ctx context.Context, tx *sqlx.Tx, o *safeguard.Organisation) error {
	if o.HostLA != "" {
		var kind string
		err := tx.GetContext(ctx, &kind, db.Rebind(`SELECT kind FROM organisations WHERE code = ?`), o.HostLA)
		if isNoRows(err) || (err == nil && kind != string(safeguard.KindLocalAuthority)) {
			return safeguard.FieldErrors(map[string]string{"host_la": fmt.Sprintf("%s is not a known local authority", o.HostLA)})
		} else if err != nil {
			return err
		}
	}
	now := db.Now()
	var hostLA any
	if o.HostLA != "" {
		hostLA = o.HostLA
	}
	_, err := tx.ExecContext(ctx, db.Rebind(`
		INSERT INTO organisations (code, name, kind, inbox, host_la, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind,
			inbox = excluded.inbox, host_la = excluded.host_la, updated_at = excluded.updated_at`),
		o.Code, o.Name, o.Kind, o.Inbox, hostLA, now, now)
	return err
}

// CountOrganisations returns how many organisations are known; zero means a first start.
func (db *DB) CountOrganisations(ctx context.Context) (int, error) {
	var n int
	err := db.GetContext(ctx, &n, `SELECT COUNT(*) FROM organisations`)
	return n, err
}

// ImportOrganisations reads a CSV of organisations and upserts every row in one transaction:
// either all rows are valid and stored, or nothing changes and the error names the row. Two
// layouts are accepted, told apart by the header:
//
//   - the reference data layout of data/prisons.csv (code, name, kind, country,
//     local_authority, la_gss_code, source): each row is a prison, and its host local
//     authority is created too if it is not known yet;
//   - the plain layout (code, name, kind, inbox, host_la), for any kind of organisation.
//     Rows are stored in file order, so a local authority must come before its prisons.
//
// Existing inbox addresses are kept when the file leaves them blank.
func (db *DB) ImportOrganisations(ctx context.Context, r io.Reader) (int, error) {
	cr := csv.NewReader(r)
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		return 0, fmt.Errorf("read header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(strings.ToLower(h))] = i
	}
	_, reference := col["la_gss_code"]
	for _, need := range requiredColumns(reference) {
		if _, ok := col[need]; !ok {
			return 0, fmt.Errorf("the header has no %q column", need)
		}
	}
	get := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	n := 0
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		for line := 2; ; line++ {
			rec, err := cr.Read()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("line %d: %w", line, err)
			}
			var orgs []*safeguard.Organisation
			if reference {
				kind := safeguard.KindPrison
				la := &safeguard.Organisation{Code: get(rec, "la_gss_code"), Name: get(rec, "local_authority"), Kind: safeguard.KindLocalAuthority}
				orgs = append(orgs, la, &safeguard.Organisation{Code: get(rec, "code"), Name: get(rec, "name"), Kind: kind, HostLA: la.Code})
			} else {
				orgs = append(orgs, &safeguard.Organisation{Code: get(rec, "code"), Name: get(rec, "name"), Kind: safeguard.OrgKind(get(rec, "kind")), Inbox: get(rec, "inbox"), HostLA: get(rec, "host_la")})
			}
			for _, o := range orgs {
				if o.Inbox == "" {
					if old, err := db.findOrganisation(ctx, tx, o.Code); err == nil {
						o.Inbox = old.Inbox
					}
				}
				if err := o.Validate(); err != nil {
					return fmt.Errorf("line %d: %w", line, err)
				}
				if err := db.upsertOrganisation(ctx, tx, o); err != nil {
					return fmt.Errorf("line %d: %w", line, err)
				}
			}
			n++
		}
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

func requiredColumns(reference bool) []string {
	if reference {
		return []string{"code", "name", "local_authority", "la_gss_code"}
	}
	return []string{"code", "name", "kind"}
}

func (db *DB) findOrganisation(ctx context.Context, q sqlx.QueryerContext, code string) (*safeguard.Organisation, error) {
	var o safeguard.Organisation
	err := sqlx.GetContext(ctx, q, &o, db.Rebind(`SELECT code, name, kind, inbox, COALESCE(host_la, '') AS host_la FROM organisations WHERE code = ?`), code)
	return &o, err
}
