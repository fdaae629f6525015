package setting

import (
	"flag"
	"strings"
	"text/tabwriter"
)

// FlagRows returns a row (flag, default, help) for each flag the table defined on fs, in table order: the default
// as -h shows it, quoted as code, or perKey for a setting whose default depends on the key.
func (t Table[C]) FlagRows(fs *flag.FlagSet, perKey string) [][]string {
	var rows [][]string
	for _, s := range t {
		f := fs.Lookup(s.name)
		if s.hidden || f == nil {
			continue
		}
		def := ""
		switch {
		case s.perKey:
			def = perKey
		case f.DefValue != "":
			def = "`" + f.DefValue + "`"
		}
		rows = append(rows, []string{"`-" + s.name + "`", def, f.Usage})
	}
	return rows
}

// KeyTable returns the defaults that depend on the key (PerKey settings) for each key: a header (keyName, then
// -flag for each such setting) and a row per key.
func (t Table[C]) KeyTable(keyName string, keys []string) (header []string, rows [][]string) {
	header = []string{keyName}
	for _, s := range t {
		if s.perKey {
			header = append(header, "-"+s.name)
		}
	}
	for _, key := range keys {
		var c C
		row := []string{key}
		for _, s := range t {
			if s.perKey {
				s.def(&c, key)
				row = append(row, s.Text(&c))
			}
		}
		rows = append(rows, row)
	}
	return header, rows
}

// Markdown renders a table in GitHub Markdown; cells are escaped so that | and < read as text.
func Markdown(header []string, rows [][]string) string {
	var b strings.Builder
	line := func(cells []string) {
		b.WriteString("|")
		for _, c := range cells {
			c = strings.NewReplacer("|", `\|`, "<", "&lt;").Replace(c)
			b.WriteString(" " + c + " |")
		}
		b.WriteString("\n")
	}
	line(header)
	b.WriteString(strings.Repeat("|---", len(header)) + "|\n")
	for _, r := range rows {
		line(r)
	}
	return b.String()
}

// Text renders a table as aligned plain text, each line indented by two spaces (for -h).
func Text(header []string, rows [][]string) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 3, ' ', 0)
	for _, r := range append([][]string{header}, rows...) {
		w.Write([]byte("  " + strings.Join(r, "\t") + "\n"))
	}
	w.Flush()
	return b.String()
}
