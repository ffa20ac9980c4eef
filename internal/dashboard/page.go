package dashboard

import (
	"bytes"
	"html/template"
	"net/http"
	"strconv"
)

// loginTemplate renders the login form; see [LoginPage].
var loginTemplate = template.Must(template.ParseFS(web, "web/login.html"))

// indexPage is the dashboard page; its script fills it in.
var indexPage = mustRead("web/index.html")

// mustRead returns an embedded file; a missing one is a build bug.
func mustRead(name string) []byte {
	b, err := web.ReadFile(name)
	if err != nil {
		panic("dashboard: " + err.Error())
	}
	return b
}

// loginData is what the login template shows.
type loginData struct {
	Action  string
	Problem string
}

// LoginPage renders the dashboard's login form with status and an
// optional problem sentence; it is the [session.LoginPage] of the
// dashboard's session manager. The form POSTs the token to [LoginPath];
// the page explains where a token comes from.
func LoginPage(w http.ResponseWriter, _ *http.Request, status int, problem string) {
	var buf bytes.Buffer
	if err := loginTemplate.Execute(&buf, loginData{Action: LoginPath, Problem: problem}); err != nil {
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	writeHTML(w, status, buf.Bytes())
}

// servePage answers GET /dashboard.
func servePage(w http.ResponseWriter, _ *http.Request) {
	writeHTML(w, http.StatusOK, indexPage)
}

// writeHTML writes an HTML body with status.
func writeHTML(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
