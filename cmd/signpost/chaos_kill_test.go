package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/audit"
	"github.com/signpost-uk/signpost/channel/delivery"
	"github.com/signpost-uk/signpost/channel/fake"
	"github.com/signpost-uk/signpost/publish"
	"github.com/signpost-uk/signpost/store"
	"github.com/signpost-uk/signpost/store/storetest"
)

// TestChaosKill runs the real binary: 200 notices to four networks whose
// fakes fail 30% of calls and lose the answer to a tenth of the posts they
// accept, with `signpost serve` SIGKILLed five times mid-run and started
// again. Every (notice, channel) pair must reach its network exactly once
// and be recorded as delivered.
func TestChaosKill(t *testing.T) {
	if testing.Short() {
		t.Skip("chaos test builds signpost and runs it for a minute or more")
	}
	t.Parallel()
	const kills = 5
	h := newChaos(t, store.SQLite)
	started := time.Now()
	serve := h.serve("serve")
	total := h.pairs()
	for k := 1; k <= kills; k++ {
		// Kill once a further sixth of the posts has reached the networks,
		// so each process has done some of the work and has more in hand.
		h.await(fmt.Sprintf("kill %d", k), func() bool { return h.posted() >= k*total/(kills+1) })
		serve.kill()
		serve = h.serve(fmt.Sprintf("serve-%d", k))
	}
	h.await("every delivery", h.allDelivered)
	elapsed := time.Since(started)
	serve.kill()
	h.check()
	t.Logf("SQLite, %d kills, %d processes: %s; %s", kills, len(h.procs), h.figures(), elapsed.Round(time.Second))
}

// TestTwoServesPostgres runs two `signpost serve` processes on one
// PostgreSQL database and SIGKILLs the one leading River mid-run, without
// restarting it: the other must rescue what it was doing, take over the
// lead, and deliver every pair exactly once.
func TestTwoServesPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("chaos test builds signpost and runs it for a minute or more")
	}
	t.Parallel()
	h := newChaos(t, store.Postgres)
	started := time.Now()
	a := h.serve("serve-a")
	// Start the second only once the first leads, so that killing the
	// first also takes the leader away.
	h.await("a leader", func() bool { return h.leaders() == 1 })
	b := h.serve("serve-b")
	total := h.pairs()
	h.await("a third of the posts", func() bool { return h.posted() >= total/3 })
	a.kill()
	killedAt := time.Now()
	h.await("every delivery", h.allDelivered)
	elapsed, afterKill := time.Since(started), time.Since(killedAt)
	b.kill()
	h.check()
	t.Logf("PostgreSQL, two processes, the leader killed once: %s; %s (%s after the kill)", h.figures(), elapsed.Round(time.Second), afterKill.Round(time.Second))
}

// chaosNotices is how many notices each chaos test publishes.
const chaosNotices = 200

// chaos is one run: a database, the fakes behind answer-losing fronts, the
// channels and notices, and the built binary.
type chaos struct {
	t      *testing.T
	db     *store.DB
	bin    string
	env    []string
	ids    []int64
	names  []string
	masto  *fake.Mastodon
	sky    *fake.Bluesky
	fb     *fake.Facebook
	xx     *fake.X
	losers []*answerLoser
	procs  []*serveProc
	// deadline bounds the whole run; each wait polls until it.
	deadline time.Time
}

func newChaos(t *testing.T, engine store.Engine) *chaos {
	t.Helper()
	db := storetest.Open(t, engine)
	began := time.Now()
	h := &chaos{t: t, db: db, bin: buildSignpost(t), names: []string{"masto", "sky", "fb", "x"}}
	built := time.Now()
	h.masto = fake.NewMastodon("masto-tok")
	h.sky = fake.NewBluesky("northdale.gov.uk", "sky-pass")
	h.fb = fake.NewFacebook("104729", "fb-tok")
	h.xx = fake.NewX("x-tok")
	kinds := []fake.Fault{fake.ServerError, fake.BadGateway, fake.RateLimited, fake.Unavailable, fake.Reset}
	h.masto.FailRandomly(0.3, 11, kinds...)
	h.sky.FailRandomly(0.3, 12, append(kinds, fake.Expired)...)
	h.fb.FailRandomly(0.3, 13, kinds...)
	h.xx.FailRandomly(0.3, 14, kinds...)
	fronts := map[string]string{}
	for i, s := range []*httptest.Server{h.masto.Server, h.sky.Server, h.fb.Server, h.xx.Server} {
		l := &answerLoser{next: s.Config.Handler, rate: 0.1, rng: rand.New(rand.NewPCG(uint64(20+i), 7))}
		front := httptest.NewServer(l)
		t.Cleanup(front.Close)
		t.Cleanup(s.Close)
		h.losers = append(h.losers, l)
		fronts[h.names[i]] = front.URL
	}

	c := newCLI(t)
	c.vars["SIGNPOST_DB"] = db.DSN()
	c.vars["SIGNPOST_SECRET_KEY"] = testSecretKey
	c.vars["MASTO_TOKEN"], c.vars["SKY_TOKEN"], c.vars["FB_TOKEN"], c.vars["X_TOKEN"] = "masto-tok", "sky-pass", "fb-tok", "x-tok"
	c.must("import", "wards", "../../demo/northdale/wards.csv")
	c.must("channel", "add", "mastodon", "--name", "masto", "--server", fronts["masto"], "--token-env", "MASTO_TOKEN", "--allow-net", "127.0.0.1")
	c.must("channel", "add", "bluesky", "--name", "sky", "--identifier", "northdale.gov.uk", "--service", fronts["sky"], "--token-env", "SKY_TOKEN", "--allow-net", "127.0.0.1")
	c.must("channel", "add", "facebook", "--name", "fb", "--page-id", "104729", "--token-env", "FB_TOKEN", "--allow-net", "127.0.0.1")
	c.must("channel", "add", "x", "--name", "x", "--token-env", "X_TOKEN", "--allow-net", "127.0.0.1")
	// Only tests move Facebook's Graph API or X's API, so the command
	// line has no setting for them: point the stored channels at the fakes.
	h.setConfig("fb", func(cfg *delivery.ChannelConfig) { cfg.Graph = fronts["fb"] })
	h.setConfig("x", func(cfg *delivery.ChannelConfig) { cfg.API = fronts["x"] })
	// What `signpost notice create --channels …` does, without opening
	// and migrating the database 200 times over.
	ctx := context.Background()
	for n := 1; n <= chaosNotices; n++ {
		in := signpost.NoticeInput{Category: signpost.CategoryRoads, Status: signpost.StatusClosed,
			Places: []signpost.PlaceRef{{Kind: signpost.PlaceAll}}, Headline: fmt.Sprintf("Chaos notice %d", n), Channels: h.names}
		notice, err := publish.Change(ctx, db, "cli:chaos", audit.Publish, 0, func(tx *store.Tx) (signpost.Notice, error) {
			return tx.CreateNotice(ctx, in)
		})
		if err != nil {
			t.Fatalf("notice %d: %v", n, err)
		}
		h.ids = append(h.ids, notice.ID)
	}
	t.Logf("signpost built in %s; channels and %d notices made in %s", built.Sub(began).Round(time.Second), chaosNotices, time.Since(built).Round(time.Second))
	// The child gets only what it needs: a developer's own SIGNPOST_*
	// variables would otherwise set its flags.
	h.env = []string{"SIGNPOST_DB=" + db.DSN(), "SIGNPOST_SECRET_KEY=" + testSecretKey}
	h.deadline = time.Now().Add(3 * time.Minute)
	t.Cleanup(func() {
		for _, p := range h.procs {
			p.kill()
		}
		if t.Failed() {
			h.diagnose()
		}
	})
	return h
}

// setConfig changes a stored channel's settings.
func (h *chaos) setConfig(name string, change func(*delivery.ChannelConfig)) {
	h.t.Helper()
	ctx := context.Background()
	ch, err := h.db.Channel(ctx, name)
	if err != nil {
		h.t.Fatal(err)
	}
	var cfg delivery.ChannelConfig
	if err := json.Unmarshal(ch.Config, &cfg); err != nil {
		h.t.Fatal(err)
	}
	change(&cfg)
	b, err := json.Marshal(cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	q := `UPDATE channels SET config = ? WHERE name = ?`
	if h.db.Engine() == store.Postgres {
		q = `UPDATE channels SET config = $1 WHERE name = $2`
	}
	if _, err := h.db.JobPool().ExecContext(ctx, q, string(b), name); err != nil {
		h.t.Fatalf("channel %s: %v", name, err)
	}
}

// buildSignpost builds the command without the race detector, which
// would slow the processes under test several times over.
func buildSignpost(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command to build signpost with: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "signpost")
	out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// serveProc is one `signpost serve` child process.
type serveProc struct {
	name   string
	cmd    *exec.Cmd
	log    string
	done   chan struct{}
	killed bool
}

// serve starts `signpost serve` with short rescue and retry waits, so a
// killed process's jobs come back within seconds.
func (h *chaos) serve(name string) *serveProc {
	h.t.Helper()
	logPath := filepath.Join(h.t.TempDir(), name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		h.t.Fatal(err)
	}
	cmd := exec.Command(h.bin, "serve", "--addr", "127.0.0.1:0", "--allow-net", "127.0.0.0/8",
		"--job-workers", "8", "--job-poll", "50ms", "--job-rescue-after", "10s", "--retry-max-wait", "1s",
		"--inbox-poll-interval", "0", "--purge-daily=false", "--base-url", "https://northdale.example")
	cmd.Env, cmd.Stdout, cmd.Stderr = h.env, logFile, logFile
	if err := cmd.Start(); err != nil {
		h.t.Fatalf("start %s: %v", name, err)
	}
	p := &serveProc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	h.procs = append(h.procs, p)
	return p
}

// kill sends SIGKILL: no shutdown, no flushing, jobs left running.
func (p *serveProc) kill() {
	if p.killed {
		return
	}
	p.killed = true
	p.cmd.Process.Kill()
	<-p.done
}

// logTail is the end of the process's output.
func (p *serveProc) logTail() string {
	b, _ := os.ReadFile(p.log)
	return tail(string(b), 2000)
}

// await polls cond until it holds, failing the test at the run's deadline
// or as soon as a process the test did not kill has exited.
func (h *chaos) await(what string, cond func() bool) {
	h.t.Helper()
	for !cond() {
		for _, p := range h.procs {
			select {
			case <-p.done:
				if !p.killed {
					h.t.Fatalf("%s exited while waiting for %s:\n%s", p.name, what, p.logTail())
				}
			default:
			}
		}
		if time.Now().After(h.deadline) {
			h.t.Fatalf("timed out waiting for %s: %d of %d pairs delivered, %d posts on the networks", what, h.delivered(), h.pairs(), h.posted())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (h *chaos) pairs() int { return len(h.ids) * len(h.names) }

// noticeText finds the notice number in a post.
var noticeText = regexp.MustCompile(`Chaos notice (\d+)\b`)

// posts counts, per channel, the posts of each notice number.
func (h *chaos) posts() map[string]map[int]int {
	out := map[string]map[int]int{}
	add := func(ch, text string) {
		if out[ch] == nil {
			out[ch] = map[int]int{}
		}
		if m := noticeText.FindStringSubmatch(text); m != nil {
			n, _ := strconv.Atoi(m[1])
			out[ch][n]++
		}
	}
	for _, s := range h.masto.Statuses() {
		add("masto", s.Text)
	}
	for _, p := range h.sky.Posts() {
		add("sky", p.Record.Text)
	}
	for _, p := range h.fb.Posts() {
		add("fb", p.Message)
	}
	for _, tw := range h.xx.Tweets() {
		add("x", tw.Text)
	}
	return out
}

// posted is how many posts of the notices the networks hold.
func (h *chaos) posted() int {
	n := 0
	for _, counts := range h.posts() {
		for _, c := range counts {
			n += c
		}
	}
	return n
}

// delivered is how many deliveries the database records as delivered.
func (h *chaos) delivered() int {
	jobs, err := h.db.DeliveryJobs(context.Background(), store.DeliveryFilter{Limit: 10 * h.pairs()})
	if err != nil {
		return 0
	}
	n := 0
	for _, j := range jobs {
		if j.State == store.DeliveryDelivered {
			n++
		}
	}
	return n
}

func (h *chaos) allDelivered() bool { return h.delivered() == h.pairs() }

// leaders is how many River leaders the database records.
func (h *chaos) leaders() int {
	var n int
	if err := h.db.JobPool().QueryRow(`SELECT count(*) FROM river_leader`).Scan(&n); err != nil {
		return 0
	}
	return n
}

// check asserts every pair reached its network exactly once and is
// recorded as delivered, with its receipt.
func (h *chaos) check() {
	h.t.Helper()
	ctx := context.Background()
	posts := h.posts()
	missing, dups := 0, 0
	for _, ch := range h.names {
		for n := 1; n <= chaosNotices; n++ {
			switch c := posts[ch][n]; {
			case c == 0:
				missing++
				h.t.Errorf("%s: notice %d never posted", ch, n)
			case c > 1:
				dups += c - 1
				h.t.Errorf("%s: notice %d posted %d times", ch, n, c)
			}
		}
	}
	for _, id := range h.ids {
		for _, ch := range h.names {
			d, ok, err := h.db.Delivery(ctx, id, ch)
			if err != nil || !ok || d.Revision != 1 || d.Action != "publish" {
				h.t.Errorf("notice %d on %s: recorded delivery %+v, %v, %v", id, ch, d, ok, err)
			}
		}
	}
	if n := h.delivered(); n != h.pairs() {
		h.t.Errorf("%d of %d deliveries recorded as delivered", n, h.pairs())
	}
	if missing+dups > 0 {
		h.t.Errorf("%d pairs lost, %d duplicate posts", missing, dups)
	}
	if h.lostAnswers() == 0 {
		h.t.Error("no answers were lost: the window between posting and recording was not exercised")
	}
	if rescued, _ := h.rescued(); rescued == 0 {
		h.t.Error("no job was rescued: no kill caught a process with work in hand")
	}
}

// rescued is how many jobs River took back from a killed process, and
// the most attempts any job took.
func (h *chaos) rescued() (jobs, maxAttempt int) {
	q := `SELECT count(*) FILTER (WHERE json(errors) LIKE '%Stuck job rescued%'), max(attempt) FROM river_job`
	if h.db.Engine() == store.Postgres {
		q = `SELECT count(*) FILTER (WHERE errors::text LIKE '%Stuck job rescued%'), max(attempt) FROM river_job`
	}
	if err := h.db.JobPool().QueryRow(q).Scan(&jobs, &maxAttempt); err != nil {
		h.t.Logf("river_job: %v", err)
	}
	return jobs, maxAttempt
}

// lostAnswers is how many answers the fronts dropped after a post.
func (h *chaos) lostAnswers() int {
	n := 0
	for _, l := range h.losers {
		n += l.count()
	}
	return n
}

// figures summarises the run for the log.
func (h *chaos) figures() string {
	posted, distinct := 0, 0
	for _, counts := range h.posts() {
		for _, c := range counts {
			posted, distinct = posted+c, distinct+1
		}
	}
	rescued, attempts := h.rescued()
	return fmt.Sprintf("%d of %d pairs delivered, %d posted, %d duplicates; %d jobs rescued from killed processes, at most %d attempts; faults injected: mastodon %d, bluesky %d, facebook %d, x %d; answers lost after posting %d",
		h.delivered(), h.pairs(), distinct, posted-distinct, rescued, attempts, h.masto.Injected(), h.sky.Injected(), h.fb.Injected(), h.xx.Injected(), h.lostAnswers())
}

// diagnose logs what River holds for every job not completed, beside
// the delivery's recorded state, and the end of each process's log.
func (h *chaos) diagnose() {
	ctx := context.Background()
	recorded := map[string]string{}
	if jobs, err := h.db.DeliveryJobs(ctx, store.DeliveryFilter{Limit: 10 * h.pairs()}); err == nil {
		for _, j := range jobs {
			recorded[fmt.Sprintf("%d/%s", j.NoticeID, j.Channel)] = j.State
			if j.State != store.DeliveryDelivered && j.LastError != "" {
				h.t.Logf("notice %d on %s: %s after %d attempts: %s", j.NoticeID, j.Channel, j.State, j.Attempts, j.LastError)
			}
		}
	}
	q := `SELECT id, state, attempt, json_extract(args, '$.notice_id'), json_extract(args, '$.channel'), attempted_at, scheduled_at FROM river_job ORDER BY id`
	if h.db.Engine() == store.Postgres {
		q = `SELECT id, state, attempt, (args->>'notice_id')::bigint, args->>'channel', attempted_at, scheduled_at FROM river_job ORDER BY id`
	}
	rows, err := h.db.JobPool().QueryContext(ctx, q)
	if err != nil {
		h.t.Logf("river_job: %v", err)
		return
	}
	defer rows.Close()
	states := map[string]int{}
	for rows.Next() {
		var id, notice int64
		var state, ch string
		var attempt int
		var attemptedAt, scheduledAt any
		if err := rows.Scan(&id, &state, &attempt, &notice, &ch, &attemptedAt, &scheduledAt); err != nil {
			h.t.Logf("river_job: %v", err)
			return
		}
		states[state]++
		if state != "completed" {
			h.t.Logf("job %d (notice %d on %s, recorded %q): %s, attempt %d, attempted %v, scheduled %v", id, notice, ch, recorded[fmt.Sprintf("%d/%s", notice, ch)], state, attempt, attemptedAt, scheduledAt)
		}
	}
	h.t.Logf("river_job states: %v at %s", states, time.Now().UTC().Format(time.RFC3339Nano))
	for _, p := range h.procs {
		h.t.Logf("%s ends:\n%s", p.name, p.logTail())
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// answerLoser passes requests to a fake but, for a share of the POSTs the
// fake accepted, closes the connection instead of answering: the post was
// made and the answer never came, as when a process is killed between a
// network accepting a post and the delivery being recorded.
type answerLoser struct {
	next http.Handler
	rate float64
	mu   sync.Mutex
	rng  *rand.Rand
	lost int
}

func (l *answerLoser) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		l.next.ServeHTTP(w, r)
		return
	}
	held := &heldResponse{w: w, header: http.Header{}, status: http.StatusOK}
	l.next.ServeHTTP(held, r)
	if held.hijacked {
		return // the fake dropped the connection itself
	}
	if held.status < 300 && l.lose() {
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	for k, v := range held.header {
		w.Header()[k] = v
	}
	w.WriteHeader(held.status)
	w.Write(held.body.Bytes())
}

func (l *answerLoser) lose() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.rng.Float64() < l.rate {
		l.lost++
		return true
	}
	return false
}

func (l *answerLoser) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lost
}

// heldResponse keeps a fake's answer until answerLoser decides its fate,
// and lets the fake drop the connection as its own faults do.
type heldResponse struct {
	w        http.ResponseWriter
	header   http.Header
	status   int
	body     bytes.Buffer
	wrote    bool
	hijacked bool
}

func (h *heldResponse) Header() http.Header { return h.header }

func (h *heldResponse) WriteHeader(status int) {
	if !h.wrote {
		h.status, h.wrote = status, true
	}
}

func (h *heldResponse) Write(b []byte) (int, error) {
	h.WriteHeader(http.StatusOK)
	return h.body.Write(b)
}

func (h *heldResponse) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h.hijacked = true
	return http.NewResponseController(h.w).Hijack()
}
