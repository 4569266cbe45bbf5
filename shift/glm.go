package shift

import (
	"errors"
	"math"
	"slices"
)

// meanFunc gives the expected count of fitted row i under coefficients
// beta, and fills jac with its derivatives: jac[k] is ∂μ/∂beta[idx[k]].
// fitMean always calls it for rows 0, 1, …, n-1 in order with one beta,
// so it may cache per-coefficient work when i is 0.
// Every row has the same number of entries (padding has jac 0), so the
// normal equations cost O(rows·width²) whatever the number of columns.
type meanFunc func(i int, beta []float64, idx []int32, jac []float64) float64

// poissonFit is a Poisson regression fitted by Fisher scoring, which for a
// log-linear mean is the usual iteratively reweighted least squares.
type poissonFit struct {
	beta []float64
	// hinv is the inverse Fisher information Σ J J'/μ at the solution,
	// p×p row-major: the model-based covariance of beta before scaling by
	// the dispersion, and the matrix that turns a change in counts into a
	// change in coefficients.
	hinv     []float64
	mu       []float64 // fitted means, one per row
	jidx     []int32   // sparse Jacobian at the solution, width per row
	jac      []float64
	width    int
	deviance float64
	nullDev  float64
	pearson  float64 // Σ (y-μ)²/μ
	iters    int
}

// dispersion is the Pearson estimate of var/mean: 1 for pure Poisson
// noise, larger when the model misses something.
func (f *poissonFit) dispersion() float64 {
	df := len(f.mu) - len(f.beta)
	if df <= 0 {
		return 1
	}
	return math.Max(1, f.pearson/float64(df))
}

var errNoConvergence = errors.New("poisson regression did not converge")

// fitMean maximises the Poisson likelihood of y under mean m, starting
// from init, by Fisher scoring. It stops when the Newton decrement (the
// log-likelihood still to gain) is negligible. A step that makes some mean
// non-positive, or that fails to shrink the decrement, is checked against
// the deviance and halved until it improves, which keeps the additive form
// (whose mean can cross zero) as stable as the log-linear one; the
// logarithms that costs are spent only then.
func fitMean(m meanFunc, y []float64, p, width int, init []float64) (*poissonFit, error) {
	n := len(y)
	if n <= p {
		return nil, errors.New("fewer days than model terms")
	}
	var ybar float64
	for _, v := range y {
		ybar += v
	}
	ybar /= float64(n)
	if ybar <= 0 {
		return nil, errors.New("no contacts in the fitting period")
	}
	f := &poissonFit{width: width, mu: make([]float64, n), jidx: make([]int32, n*width), jac: make([]float64, n*width)}
	beta := slices.Clone(init)
	// evaluate fills mu and the Jacobian at b; it reports false when some
	// mean is not positive.
	evaluate := func(b []float64) bool {
		for i := 0; i < n; i++ {
			mu := m(i, b, f.jidx[i*width:(i+1)*width], f.jac[i*width:(i+1)*width])
			if !(mu > 0) || math.IsInf(mu, 0) {
				return false
			}
			f.mu[i] = mu
		}
		return true
	}
	deviance := func() float64 {
		dev := 0.0
		for i, mu := range f.mu {
			dev += devianceTerm(y[i], mu)
		}
		return dev
	}
	if !evaluate(beta) {
		return nil, errors.New("the starting values give a non-positive expected count")
	}
	a := make([]float64, p*p)
	u := make([]float64, p)
	trial := make([]float64, p)
	prevDecrement := math.Inf(1)
	for iter := 1; ; iter++ {
		if iter > 100 {
			return nil, errNoConvergence
		}
		f.info(a, u, y, p)
		step, err := solveSPD(a, u, p)
		if err != nil {
			return nil, err
		}
		decrement := 0.0
		for j := range step {
			decrement += u[j] * step[j]
		}
		// Half the decrement is the log-likelihood still to gain; 1e-5 is far
		// below anything that moves a count.
		if decrement < 1e-5 {
			break
		}
		careful := decrement >= prevDecrement
		var dev float64
		if careful {
			dev = deviance()
		}
		prevDecrement = decrement
		accepted := false
		for half := 0; half < 40; half++ {
			for j := range trial {
				trial[j] = beta[j] + step[j]
			}
			if evaluate(trial) && (!careful || deviance() <= dev) {
				accepted = true
				break
			}
			careful = true
			if dev == 0 {
				evaluate(beta)
				dev = deviance()
			}
			for j := range step {
				step[j] /= 2
			}
		}
		if !accepted {
			evaluate(beta)
			break
		}
		copy(beta, trial)
		f.iters = iter
	}
	f.beta, f.deviance = beta, deviance()
	for i := 0; i < n; i++ {
		f.nullDev += devianceTerm(y[i], ybar)
		f.pearson += (y[i] - f.mu[i]) * (y[i] - f.mu[i]) / f.mu[i]
	}
	f.info(a, u, y, p)
	hinv, err := invertSPD(a, p)
	if err != nil {
		return nil, err
	}
	f.hinv = hinv
	return f, nil
}

// info accumulates the Fisher information Σ J J'/μ into a and the score
// Σ J (y−μ)/μ into u at the current means and Jacobian.
func (f *poissonFit) info(a, u, y []float64, p int) {
	clear(a)
	clear(u)
	w := f.width
	for i, mu := range f.mu {
		ix, jx := f.jidx[i*w:(i+1)*w], f.jac[i*w:(i+1)*w]
		r := (y[i] - mu) / mu
		for k, ck := range ix {
			jk := jx[k]
			if jk == 0 {
				continue
			}
			u[ck] += jk * r
			jk /= mu
			for l := k; l < len(ix); l++ {
				a[int(ck)*p+int(ix[l])] += jk * jx[l]
			}
		}
	}
	symmetrise(a, p)
}

// symmetrise copies whichever triangle was accumulated into the other.
// Rows can list columns in any order, so entries land in either triangle;
// summing both halves and mirroring gives the full symmetric matrix.
func symmetrise(a []float64, p int) {
	for i := 0; i < p; i++ {
		for j := i + 1; j < p; j++ {
			s := a[i*p+j] + a[j*p+i]
			a[i*p+j], a[j*p+i] = s, s
		}
	}
}

func devianceTerm(y, mu float64) float64 {
	if y <= 0 {
		return 2 * mu
	}
	return 2 * (y*math.Log(y/mu) - (y - mu))
}

// cholesky factors a symmetric positive-definite matrix in place (lower
// triangle). A tiny ridge rescues matrices that are singular only through
// rounding, such as a dummy column with very few days.
func cholesky(a []float64, p int) ([]float64, error) {
	for _, ridge := range []float64{0, 1e-10, 1e-7} {
		l := make([]float64, p*p)
		ok := true
		for j := 0; j < p && ok; j++ {
			s := a[j*p+j] * (1 + ridge)
			for k := 0; k < j; k++ {
				s -= l[j*p+k] * l[j*p+k]
			}
			if s <= 0 || math.IsNaN(s) {
				ok = false
				break
			}
			l[j*p+j] = math.Sqrt(s)
			for i := j + 1; i < p; i++ {
				s := a[i*p+j]
				for k := 0; k < j; k++ {
					s -= l[i*p+k] * l[j*p+k]
				}
				l[i*p+j] = s / l[j*p+j]
			}
		}
		if ok {
			return l, nil
		}
	}
	return nil, errors.New("model terms are not identifiable from the data (singular matrix)")
}

func solveSPD(a, b []float64, p int) ([]float64, error) {
	l, err := cholesky(a, p)
	if err != nil {
		return nil, err
	}
	return cholSolve(l, b, p), nil
}

func cholSolve(l, b []float64, p int) []float64 {
	x := make([]float64, p)
	for i := 0; i < p; i++ {
		s := b[i]
		for k := 0; k < i; k++ {
			s -= l[i*p+k] * x[k]
		}
		x[i] = s / l[i*p+i]
	}
	for i := p - 1; i >= 0; i-- {
		s := x[i]
		for k := i + 1; k < p; k++ {
			s -= l[k*p+i] * x[k]
		}
		x[i] = s / l[i*p+i]
	}
	return x
}

func invertSPD(a []float64, p int) ([]float64, error) {
	l, err := cholesky(a, p)
	if err != nil {
		return nil, err
	}
	inv := make([]float64, p*p)
	e := make([]float64, p)
	for j := 0; j < p; j++ {
		clear(e)
		e[j] = 1
		col := cholSolve(l, e, p)
		for i := 0; i < p; i++ {
			inv[i*p+j] = col[i]
		}
	}
	return inv, nil
}
