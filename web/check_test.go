package web

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/signpost-uk/signpost/risk"
)

func TestCheckAPI(t *testing.T) {
	s, err := risk.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := httptest.NewServer(CheckAPI(s, logger))
	defer srv.Close()

	secret := "Please ring Mrs Okafor on 07700 900123"
	tests := []struct {
		name, method, ctype, body string
		status                    int
		code                      string
		risky                     bool
		category                  risk.Category
	}{
		{"risky", "POST", "application/json", `{"text": "` + secret + `"}`, 200, "", true, risk.PersonalData},
		{"safe", "POST", "application/json", `{"text": "Bins are collected on Tuesday."}`, 200, "", false, ""},
		{"incoming safeguarding", "POST", "", `{"text": "I want to end it all", "context": "incoming"}`, 200, "", true, risk.Safeguarding},
		{"pre-election", "POST", "application/json", `{"text": "Cllr Price opened the brilliant new depot", "pre_election": true}`, 200, "", true, risk.Political},
		{"empty text", "POST", "application/json", `{"text": "  "}`, 400, "invalid", false, ""},
		{"no body", "POST", "application/json", ``, 400, "invalid", false, ""},
		{"bad json", "POST", "application/json", `{"text": `, 400, "invalid", false, ""},
		{"unknown field", "POST", "application/json", `{"txt": "x"}`, 400, "invalid", false, ""},
		{"bad context", "POST", "application/json", `{"text": "x", "context": "sideways"}`, 400, "invalid", false, ""},
		{"two objects", "POST", "application/json", `{"text": "x"} {"text": "y"}`, 400, "invalid", false, ""},
		{"form", "POST", "application/x-www-form-urlencoded", `text=x`, 400, "invalid", false, ""},
		{"too large", "POST", "application/json", `{"text": "` + strings.Repeat("a", 70<<10) + `"}`, 413, "too_large", false, ""},
		{"too many characters", "POST", "application/json", `{"text": "` + strings.Repeat("é", 20001) + `"}`, 413, "too_large", false, ""},
		{"get", "GET", "", ``, 405, "method_not_allowed", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL, strings.NewReader(tt.body))
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.status)
			}
			if ct := res.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("content type %q", ct)
			}
			if tt.status != 200 {
				var e struct {
					Error struct{ Code, Message string } `json:"error"`
				}
				if err := json.NewDecoder(res.Body).Decode(&e); err != nil {
					t.Fatal(err)
				}
				if e.Error.Code != tt.code || e.Error.Message == "" {
					t.Errorf("error %+v, want code %q", e.Error, tt.code)
				}
				return
			}
			var rep risk.Report
			if err := json.NewDecoder(res.Body).Decode(&rep); err != nil {
				t.Fatal(err)
			}
			if rep.Risky != tt.risky {
				t.Errorf("risky %v, want %v: %v", rep.Risky, tt.risky, rep)
			}
			if tt.category != "" && !containsCategory(rep.Categories, tt.category) {
				t.Errorf("categories %v, want %s", rep.Categories, tt.category)
			}
			if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q", cc)
			}
		})
	}
	if strings.Contains(logs.String(), "Okafor") || strings.Contains(logs.String(), "07700") {
		t.Errorf("the log contains the text: %s", logs.String())
	}
}

func containsCategory(cs []risk.Category, c risk.Category) bool {
	for _, x := range cs {
		if x == c {
			return true
		}
	}
	return false
}
