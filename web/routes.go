package web

import (
	"net/http"

	"github.com/signpost-uk/signpost/archive"
	"github.com/signpost-uk/signpost/auth"
	"github.com/signpost-uk/signpost/workflow"
)

// Access levels: "public", or the lowest auth role (viewer, author,
// approver, admin) that may use the route. Non-public routes are wrapped in
// staffOnly by NewServer; the route test enumerates this table and checks
// each level for anonymous requests and for every role.
const accessPublic = "public"

// The staff levels, lowest first: accessViewer is any signed-in role.
const (
	accessViewer   = string(auth.Viewer)
	accessAuthor   = string(auth.Author)
	accessApprover = string(auth.Approver)
	accessAdmin    = string(auth.Admin)
)

// accessExport is who may export the archive for FOI and records requests.
var accessExport = string(auth.ExportArchive.MinRole())

// route is one entry in the table of everything the server answers.
type route struct {
	method  string // GET also answers HEAD
	pattern string // net/http ServeMux pattern without the method
	access  string
	handler http.Handler
}

// routeTable lists every route the server answers, top to bottom.
func (s *Server) routeTable() []route {
	shift := s.handleShiftDashboard() // one dashboard (and cache) for both patterns
	return []route{
		// Residents' site.
		{"GET", "/{$}", accessPublic, s.handleHome()},
		{"GET", "/area", accessPublic, s.handleArea()},
		{"GET", "/notices/{id}", accessPublic, s.handleNotice()},
		{"GET", "/schools", accessPublic, s.handleList("schools")},
		{"GET", "/schools/{urn}", accessPublic, s.handleSchool()},
		{"GET", "/routes", accessPublic, s.handleList("routes")},
		{"GET", "/routes/{id}", accessPublic, s.handleRoute()},
		{"GET", "/wards", accessPublic, s.handleList("wards")},
		{"GET", "/wards/{code}", accessPublic, s.handleWard()},
		{"GET", "/rounds", accessPublic, s.handleList("rounds")},
		{"GET", "/rounds/{id}", accessPublic, s.handleRound()},
		{"GET", "/map", accessPublic, s.handleList("map")},
		// E-mail updates. The confirm and unsubscribe POSTs carry no CSRF
		// token: mail clients post the RFC 8058 one-click unsubscribe, and
		// the signed token in the address protects both.
		{"GET", "/subscribe", accessPublic, s.handleSubscribeForm()},
		{"POST", "/subscribe", accessPublic, s.handleSubscribe()},
		{"GET", "/subscribe/check-email", accessPublic, s.handleSubscribeSent()},
		{"GET", "/subscribe/confirm/{token}", accessPublic, s.handleConfirm()},
		{"POST", "/subscribe/confirm/{token}", accessPublic, s.handleConfirm()},
		{"GET", "/unsubscribe/{token}", accessPublic, s.handleManage()},
		{"POST", "/unsubscribe/{token}", accessPublic, s.handleUnsubscribe()},
		{"GET", "/contact", accessPublic, s.handleContactForm()},
		{"POST", "/contact", accessPublic, s.handleContactSend()},
		{"GET", "/contact/sent", accessPublic, s.handleContactSent()},
		{"GET", "/brand.css", accessPublic, s.handleBrandCSS()},
		{"GET", "/static/", accessPublic, s.handleStatic()},

		// Open feeds.
		{"GET", "/feeds/notices.atom", accessPublic, s.handleNoticeFeed(feedAtom)},
		{"GET", "/feeds/notices.json", accessPublic, s.handleNoticeFeed(feedJSON)},
		{"GET", "/feeds/cap.atom", accessPublic, s.handleCAPIndex()},
		{"GET", "/cap/{file}", accessPublic, s.handleCAP()},
		{"GET", "/calendar/rounds/{file}", accessPublic, s.handleRoundCalendar()},

		// Read-only JSON API.
		{"GET", "/api/openapi.json", accessPublic, s.handleOpenAPI()},
		{"GET", "/api/v1/notices", accessPublic, s.apiNotices()},
		{"GET", "/api/v1/notices/{id}", accessPublic, s.apiNotice()},
		{"GET", "/api/v1/wards", accessPublic, s.apiWards()},
		{"GET", "/api/v1/wards/{code}", accessPublic, s.apiWard()},
		{"GET", "/api/v1/schools", accessPublic, s.apiSchools()},
		{"GET", "/api/v1/schools/{urn}", accessPublic, s.apiSchool()},
		{"GET", "/api/v1/routes", accessPublic, s.apiRoutes()},
		{"GET", "/api/v1/routes/{id}", accessPublic, s.apiRoute()},
		{"GET", "/api/v1/rounds", accessPublic, s.apiRounds()},
		{"GET", "/api/v1/rounds/{id}", accessPublic, s.apiRound()},
		{"GET", "/api/v1/postcodes/{postcode}", accessPublic, s.apiPostcode()},
		// The screening API is a staff tool: a signed-in session (and its
		// CSRF token in X-CSRF-Token) is required.
		{"POST", "/api/v1/check", accessViewer, CheckAPI(s.deps.Screener, s.log)},

		// Webhooks from the networks: public, each delivery checked by
		// its signature (Facebook: X-Hub-Signature-256).
		{"GET", "/hooks/facebook", accessPublic, s.handleFacebookVerify()},
		{"POST", "/hooks/facebook", accessPublic, s.handleFacebookWebhook()},

		// Operations. Prometheus scrapers do not sign in, so /metrics
		// checks its own bearer token or a direct local request.
		{"GET", "/healthz", accessPublic, s.handleHealthz()},
		{"GET", "/readyz", accessPublic, s.handleReadyz()},
		{"GET", "/metrics", accessPublic, s.handleMetrics()},

		// Staff area. The sign-in form is public; it carries its own
		// signed double-submit CSRF token since there is no session yet.
		{"GET", "/staff/sign-in", accessPublic, s.handleSignInForm()},
		{"POST", "/staff/sign-in", accessPublic, s.handleSignIn()},
		// Single sign-on: login CSRF is stopped by the flow's state,
		// nonce and PKCE verifier, which only this browser's cookie holds.
		{"GET", ssoStartPath, accessPublic, s.handleSSOStart()},
		{"GET", ssoCallbackPath, accessPublic, s.handleSSOCallback()},
		{"POST", "/staff/sign-out", accessViewer, s.handleSignOut()},
		{"GET", "/staff", accessViewer, s.handleStaffHome()},
		{"GET", "/staff/check", accessViewer, s.handleCheckPage()},
		{"POST", "/staff/check", accessViewer, s.handleCheckPage()},
		{"GET", "/staff/shift", accessViewer, shift},

		// Writing and approving notices. Each step's route needs the
		// lowest role that may ever take it; the workflow then applies
		// its own rules (nobody approves their own work).
		{"GET", "/staff/notices", accessViewer, s.handleNoticesList()},
		{"GET", "/staff/notices/new", accessAuthor, s.handleComposeForm()},
		{"POST", "/staff/notices", accessAuthor, s.handleCreateItem()},
		{"GET", "/staff/notices/drafts/{id}", accessViewer, s.handleItem()},
		{"GET", "/staff/notices/drafts/{id}/edit", accessAuthor, s.handleEditForm()},
		{"POST", "/staff/notices/drafts/{id}", accessAuthor, s.handleEditItem()},
		{"POST", "/staff/notices/drafts/{id}/submit", accessAuthor, s.itemOp(workflow.OpSubmit)},
		{"POST", "/staff/notices/drafts/{id}/publish", accessAuthor, s.itemOp(workflow.OpPublish)},
		{"POST", "/staff/notices/drafts/{id}/urgent", accessAuthor, s.itemOp(workflow.OpUrgent)},
		{"POST", "/staff/notices/drafts/{id}/schedule", accessAuthor, s.itemOp(workflow.OpSchedule)},
		{"POST", "/staff/notices/drafts/{id}/unschedule", accessAuthor, s.itemOp(workflow.OpUnschedule)},
		{"POST", "/staff/notices/drafts/{id}/withdraw", accessAuthor, s.itemOp(workflow.OpWithdraw)},
		{"POST", "/staff/notices/drafts/{id}/approve", accessApprover, s.itemOp(workflow.OpApprove)},
		{"POST", "/staff/notices/drafts/{id}/return", accessApprover, s.itemOp(workflow.OpReturn)},
		{"POST", "/staff/notices/drafts/{id}/review", accessApprover, s.itemOp(workflow.OpReview)},
		{"GET", "/staff/notices/published/{id}", accessViewer, s.handlePublished()},
		{"POST", "/staff/notices/published/{id}/close", accessAuthor, s.handleCloseNotice()},
		{"POST", "/staff/notices/published/{id}/retract", accessApprover, s.handleRetractNotice()},
		{"GET", "/staff/settings/workflow", accessAdmin, s.handleSettings()},
		{"POST", "/staff/settings/workflow", accessAdmin, s.handleSettings()},
		{"GET", "/staff/shift/", accessViewer, shift},
		{"GET", "/staff/archive", accessViewer, s.handleArchive()},
		{"GET", "/staff/archive.csv", accessExport, s.handleArchiveExport(archive.CSV)},
		{"GET", "/staff/archive.jsonl", accessExport, s.handleArchiveExport(archive.JSONL)},
		// Deliveries of notices to channels: approvers and admins see
		// them all and retry failed ones (every role sees a notice's own
		// on its page).
		{"GET", deliveriesPath, accessDeliveries, s.handleDeliveries()},
		{"POST", deliveriesPath + "/retry", accessDeliveries, s.handleRetryDelivery()},

		// The residents' inbox: viewers read, authors answer, approvers
		// decide on held replies and redact, admins manage saved replies
		// and export a resident's data.
		{"GET", "/staff/inbox", accessViewer, s.handleInboxQueue()},
		{"GET", "/staff/inbox/stats", accessViewer, s.handleInboxStats()},
		{"GET", "/staff/inbox/{id}", accessViewer, s.handleInboxConversation()},
		{"POST", "/staff/inbox/{id}/reply", string(auth.Author), s.handleInboxReply()},
		{"POST", "/staff/inbox/{id}/assign", string(auth.Author), s.handleInboxAssign()},
		{"POST", "/staff/inbox/{id}/status", string(auth.Author), s.handleInboxStatus()},
		{"POST", "/staff/inbox/{id}/category", string(auth.Author), s.handleInboxCategory()},
		{"POST", "/staff/inbox/{id}/notes", string(auth.Author), s.handleInboxNote()},
		{"POST", "/staff/inbox/replies/{id}/decide", string(auth.Approver), s.handleInboxDecide()},
		{"POST", "/staff/inbox/messages/{id}/redact", string(auth.Approver), s.handleInboxRedact()},
		{"GET", "/staff/inbox/saved", string(auth.Admin), s.handleInboxSaved()},
		{"POST", "/staff/inbox/saved", string(auth.Admin), s.handleInboxSaved()},
		{"POST", "/staff/inbox/saved/{id}/delete", string(auth.Admin), s.handleInboxSavedDelete()},
		{"GET", "/staff/inbox/export", string(auth.Admin), s.handleInboxExport()},
		{"POST", "/staff/inbox/export", string(auth.Admin), s.handleInboxExport()},

		// Administration.
		{"GET", usersPath, accessAdmin, s.handleUsers()},
		{"POST", usersPath, accessAdmin, s.handleUsers()},
		{"GET", usersPath + "/account", accessAdmin, s.handleUser()},
		{"POST", usersPath + "/role", accessAdmin, s.handleUserChange("role")},
		{"POST", usersPath + "/disable", accessAdmin, s.handleUserChange("disabled")},
		{"POST", usersPath + "/enable", accessAdmin, s.handleUserChange("enabled")},
		{"POST", usersPath + "/password", accessAdmin, s.handleUserChange("password")},
		{"GET", costsPath, accessAdmin, s.handleCosts()},
		{"POST", costsPath, accessAdmin, s.handleCosts()},
		{"GET", retentionPath, accessAdmin, s.handleRetention(false)},
		{"POST", retentionPath, accessAdmin, s.handleRetention(false)},
		{"POST", retentionPath + "/purge", accessAdmin, s.handleRetention(true)},
		{"GET", channelsPath, accessAdmin, s.handleChannels()},
		{"POST", channelsPath, accessAdmin, s.handleChannelAdd()},
		{"GET", channelsPath + "/new", accessAdmin, s.handleChannelNew()},
		{"GET", channelsPath + "/{name}", accessAdmin, s.handleChannel()},
		{"POST", channelsPath + "/{name}/test", accessAdmin, s.handleChannelTest()},
		{"POST", channelsPath + "/{name}/categories", accessAdmin, s.handleChannelCategories()},
		{"POST", channelsPath + "/{name}/credentials", accessAdmin, s.handleChannelCredentials()},
		{"GET", channelsPath + "/{name}/remove", accessAdmin, s.handleChannelRemove()},
		{"POST", channelsPath + "/{name}/remove", accessAdmin, s.handleChannelRemove()},
	}
}
