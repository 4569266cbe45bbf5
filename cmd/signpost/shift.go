package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/signpost-uk/signpost"
	"github.com/signpost-uk/signpost/shift"
	"github.com/signpost-uk/signpost/store"
)

// shiftUsage lists the channel-shift subcommands, each reading the store.
const shiftUsage = `<command> [flags]

Commands:
  report     the full estimate for a campaign (--format text, json or csv)
  summary    the board-level paragraph for a campaign
  daily      the campaign's days behind the dashboard charts, as CSV
  campaigns  list the imported campaigns

Import the data first: signpost import weather|contacts|costs|campaigns <file>`

func runShift(ctx context.Context, args []string, env *environment) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fs := newFlagSet("shift", shiftUsage, env)
		fs.Usage()
		if len(args) == 0 {
			return signpost.Errorf(signpost.EINVALID, "shift needs a command: report, summary, daily or campaigns")
		}
		return flag.ErrHelp
	}
	switch args[0] {
	case "report", "summary", "daily":
		return runShiftReport(ctx, args[0], args[1:], env)
	case "campaigns":
		return runShiftCampaigns(ctx, args[1:], env)
	}
	return signpost.Errorf(signpost.EINVALID, "unknown shift command %q (want report, summary, daily or campaigns)", args[0])
}

func runShiftReport(ctx context.Context, sub string, args []string, env *environment) error {
	usage := "--campaign NAME"
	if sub == "report" {
		usage += " [--format text|json|csv]"
	}
	fs := newFlagSet("shift "+sub, usage, env)
	dsn := addDBFlag(fs)
	campaign := fs.String("campaign", "", "the campaign to evaluate, as named in the campaigns import")
	format := fs.String("format", shift.FormatText, "report format: text, json or csv")
	baseline := fs.Int("baseline-days", 1096, "days before the campaign to fit the baseline on")
	draws := fs.Int("draws", 1000, "bootstrap resamples for the 95% intervals")
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	if *campaign == "" {
		fs.Usage()
		return signpost.Errorf(signpost.EINVALID, "shift %s needs --campaign", sub)
	}
	switch *format {
	case shift.FormatText, shift.FormatJSON, shift.FormatCSV:
	default:
		return signpost.Errorf(signpost.EINVALID, "unknown --format %q: use text, json or csv", *format)
	}
	if *baseline < 56 || *draws < 100 {
		return signpost.Errorf(signpost.EINVALID, "--baseline-days must be at least 56 and --draws at least 100")
	}
	db, err := openDB(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	r, err := shiftReport(ctx, db, *campaign, shift.Options{BaselineDays: *baseline, Draws: *draws})
	if err != nil {
		return err
	}
	switch sub {
	case "summary":
		_, err = fmt.Fprintln(env.stdout, shift.Summary(r))
	case "daily":
		err = shift.WriteDailyCSV(env.stdout, r)
	default:
		err = shift.Write(env.stdout, r, *format)
	}
	return err
}

// shiftReport loads only the days the estimate reads (the baseline, the
// same period a year earlier, and the campaign) and runs it.
func shiftReport(ctx context.Context, db *store.DB, name string, opt shift.Options) (*shift.Report, error) {
	campaigns, err := db.Campaigns(ctx)
	if err != nil {
		return nil, err
	}
	var camp *shift.Campaign
	var names []string
	for i := range campaigns {
		names = append(names, campaigns[i].Name)
		if campaigns[i].Name == name {
			camp = &campaigns[i]
		}
	}
	if camp == nil {
		if len(names) == 0 {
			return nil, signpost.Errorf(signpost.ENOTFOUND, "no campaigns are imported: run signpost import campaigns <file> first")
		}
		return nil, signpost.Errorf(signpost.ENOTFOUND, "no campaign called %q (there are: %s)", name, strings.Join(names, ", "))
	}
	from := camp.Start.AddDate(0, 0, -opt.BaselineDays-7)
	d, err := db.ShiftData(ctx, from, camp.End)
	if err != nil {
		return nil, err
	}
	return shift.Estimate(d, name, opt)
}

func runShiftCampaigns(ctx context.Context, args []string, env *environment) error {
	fs := newFlagSet("shift campaigns", "", env)
	dsn := addDBFlag(fs)
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	db, err := openDB(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	campaigns, err := db.Campaigns(ctx)
	if err != nil {
		return err
	}
	if len(campaigns) == 0 {
		fmt.Fprintln(env.stdout, "no campaigns imported")
		return nil
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CAMPAIGN\tSTART\tEND\tCATEGORIES\tDESCRIPTION")
	for _, c := range campaigns {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Name, c.Start.Format(time.DateOnly), c.End.Format(time.DateOnly), strings.Join(c.Categories, ";"), c.Description)
	}
	return tw.Flush()
}
