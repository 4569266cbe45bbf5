package shift

// Interval is a point estimate with its 95% interval.
type Interval struct {
	Estimate float64 `json:"estimate"`
	Low      float64 `json:"low"`
	High     float64 `json:"high"`
}

// Period is an inclusive date range, dates as YYYY-MM-DD.
type Period struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// CategoryResult is the estimate for one category; the embedded Interval
// is the calls avoided, so the JSON reads {"estimate": …, "low": …, …}.
type CategoryResult struct {
	Interval
	Targeted      bool     `json:"targeted"`
	BaselineCalls float64  `json:"baseline_calls"` // calls the model expected without the campaign
	ActualCalls   float64  `json:"actual_calls"`
	AddedDigital  Interval `json:"added_digital"`
}

// NetSaving is the money saved under both cost bases.
type NetSaving struct {
	FullyLoaded Interval `json:"fully_loaded"`
	Marginal    Interval `json:"marginal"`
	Note        string   `json:"note"`
}

// Naive is the comparison most people make first: calls in the same
// period last year against calls now, and why it differs from the model.
type Naive struct {
	Available    bool    `json:"available"`
	Period       Period  `json:"period"`
	CallsThen    float64 `json:"calls_then"`
	CallsNow     float64 `json:"calls_now"`
	AvoidedCalls float64 `json:"avoided_calls"` // calls then − calls now
	// SevereDaysThen and SevereDaysNow count days of snow (severity 2 or
	// more); FrostDays… count frost or ice (severity 1).
	SevereDaysThen int `json:"snow_days_then"`
	SevereDaysNow  int `json:"snow_days_now"`
	FrostDaysThen  int `json:"frost_days_then"`
	FrostDaysNow   int `json:"frost_days_now"`
	// The naive figure equals the model's estimate plus these three parts:
	// positive parts make the naive comparison look better than the model.
	WeatherAndCalendar float64 `json:"weather_and_calendar"` // calls last year's weather and calendar added over this year's
	Trend              float64 `json:"trend"`                // calls the long-run trend took away in a year
	Noise              float64 `json:"noise"`                // last year's calls above the model's expectation
	Explanation        string  `json:"explanation"`
}

// Backtest runs the same method on the same dates one year earlier, when
// there was no campaign: an honest method finds close to nothing there.
type Backtest struct {
	Period        Period  `json:"period"`
	BaselineCalls float64 `json:"baseline_calls"`
	ActualCalls   float64 `json:"actual_calls"`
	AvoidedCalls  float64 `json:"avoided_calls"`
	ErrorPercent  float64 `json:"error_percent"` // avoided as % of baseline
	NoiseSD       float64 `json:"noise_sd"`      // what chance alone would give
}

// Control is the estimate for the categories the campaign did not target:
// it should include zero.
type Control struct {
	Categories   []string  `json:"categories"`
	AvoidedCalls Interval  `json:"avoided_calls"`
	AddedDigital *Interval `json:"added_digital,omitempty"` // should include zero too
}

// SeriesFit describes one fitted baseline.
type SeriesFit struct {
	Category          string             `json:"category"`
	Channel           string             `json:"channel"`
	Days              int                `json:"days"`
	DevianceExplained float64            `json:"deviance_explained"`
	Dispersion        float64            `json:"dispersion"`
	TrendPerYear      float64            `json:"trend_per_year"`       // e.g. -0.03 is 3% fewer a year
	SeverityEffect    map[string]float64 `json:"severity_multipliers"` // contacts on a day of that severity ÷ a calm day, at the campaign start
	Additive          bool               `json:"additive_weather"`     // weather adds calls rather than multiplying them
}

// Day is one campaign day for charts.
type Day struct {
	Date            string  `json:"date"`
	Severity        int     `json:"severity"` // -1 when no weather is recorded
	PhoneActual     float64 `json:"phone_actual"`
	PhoneBaseline   float64 `json:"phone_baseline"`
	PhoneLow        float64 `json:"phone_low"`
	PhoneHigh       float64 `json:"phone_high"`
	DigitalActual   float64 `json:"digital_actual"`
	DigitalBaseline float64 `json:"digital_baseline"`
	// CumulativeSaving is the running net saving at fully-loaded cost.
	CumulativeSaving float64            `json:"cumulative_saving_gbp"`
	ByChannel        map[string]float64 `json:"by_channel"` // actual contacts per channel, targeted categories
}

// Report is the full channel-shift estimate for one campaign.
type Report struct {
	Campaign        string                    `json:"campaign"`
	Description     string                    `json:"description,omitempty"`
	Categories      []string                  `json:"categories"`
	Period          Period                    `json:"period"`
	BaselinePeriod  Period                    `json:"baseline_period"`
	AvoidedCalls    Interval                  `json:"avoided_calls"`
	BaselineCalls   float64                   `json:"baseline_calls"`
	ActualCalls     float64                   `json:"actual_calls"`
	ByCategory      map[string]CategoryResult `json:"by_category"`
	AddedDigital    Interval                  `json:"added_digital"`
	ChangeByChannel map[string]Interval       `json:"change_by_channel"` // actual − baseline for every channel but the phone
	NetSaving       NetSaving                 `json:"net_saving_gbp"`
	Costs           []CostUsed                `json:"costs"`
	Naive           Naive                     `json:"naive"`
	Backtest        *Backtest                 `json:"backtest,omitempty"`
	Control         *Control                  `json:"untargeted_control,omitempty"`
	Model           string                    `json:"model"`
	IntervalMethod  string                    `json:"interval_method"`
	Fits            []SeriesFit               `json:"fits"`
	Daily           []Day                     `json:"daily"`
	Warnings        []string                  `json:"warnings"`
}
