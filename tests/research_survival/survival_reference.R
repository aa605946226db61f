# Reference values from R survival for the mmemd survival tests.
# Usage: Rscript survival_reference.R OUTDIR
# Writes the datasets shipped with R survival as CSV (so both sides read the very same rows) and reference.json.
suppressPackageStartupMessages(library(survival))

# A minimal JSON writer (base R only, so no jsonlite is needed): named lists become objects, vectors of length 1
# scalars, longer vectors arrays; NA becomes null; numbers keep 17 significant digits.
to_json <- function(x) {
  if (is.list(x)) {
    items <- vapply(x, to_json, character(1))
    if (is.null(names(x))) return(paste0("[", paste(items, collapse = ","), "]"))
    return(paste0("{", paste(sprintf("\"%s\":%s", names(x), items), collapse = ","), "}"))
  }
  if (is.factor(x)) x <- as.character(x)
  one <- function(v) {
    if (is.na(v)) "null" else if (is.character(v)) sprintf("\"%s\"", v) else sprintf("%.17g", v)
  }
  vals <- vapply(as.list(unname(x)), one, character(1))
  if (length(vals) == 1) vals else paste0("[", paste(vals, collapse = ","), "]")
}
args <- commandArgs(trailingOnly = TRUE)
out <- args[[1]]

lung2 <- lung
lung2$status <- lung2$status - 1 # R codes lung's status 1/2; mmemd takes 0/1
lung2$sex <- ifelse(lung2$sex == 1, "male", "female")
myeloma2 <- myeloma
myeloma2$era <- ifelse(myeloma2$year < 80, "early", "late")
# Without tied event times the log-rank statistic equals the Cox score test; break myeloma's day ties for that check
# on an integer scale (coxph treats times closer than about 1e-8 as tied), keeping every risk set's order.
myeloma2$futime_u <- myeloma2$futime * 10000 + myeloma2$id
myeloma2$entry_u <- myeloma2$entry * 10000
# A small data set with ties, an event at the last time (S reaches 0) and a censoring before the first event.
ties0 <- data.frame(
  t = c(1, 2, 2, 2, 3, 3, 4, 5, 5, 6),
  e = c(0, 1, 1, 0, 1, 1, 0, 1, 0, 1),
  g = c("a", "a", "b", "b", "a", "b", "a", "b", "a", "b")
)
ovarian2 <- ovarian # futime, fustat (1 = death), age, resid.ds, rx, ecog.ps
veteran2 <- veteran
veteran2$celltype <- as.character(veteran2$celltype)
data <- list(
  aml = aml, mgus2 = mgus2, lung = lung2, myeloma = myeloma2, ties0 = ties0, ovarian = ovarian2,
  veteran = veteran2
)
for (nm in names(data)) write.csv(data[[nm]], file.path(out, paste0(nm, ".csv")), row.names = FALSE, na = "")

curve <- function(fit) {
  list(
    time = fit$time, n_risk = fit$n.risk, n_event = fit$n.event, surv = fit$surv,
    lower = fit$lower, upper = fit$upper
  )
}
med <- function(fit) {
  q <- quantile(fit, 0.5)
  list(median = unname(q$quantile), lower = unname(q$lower), upper = unname(q$upper))
}
at <- function(fit, times) {
  s <- summary(fit, times = times, extend = FALSE)
  list(time = s$time, surv = s$surv, lower = s$lower, upper = s$upper, n_risk = s$n.risk)
}
km <- function(formula, d, times) {
  fit <- survfit(formula, data = d, conf.type = "log-log")
  list(curve = curve(fit), median = med(fit), at = at(fit, times))
}
km_groups <- function(formula, d) {
  fit <- survfit(formula, data = d, conf.type = "log-log")
  q <- quantile(fit, 0.5)
  list(
    strata = sub(".*=", "", names(fit$strata)), median = unname(q$quantile), lower = unname(q$lower),
    upper = unname(q$upper), size = unname(fit$strata), time = fit$time, surv = fit$surv,
    lo = fit$lower, up = fit$upper, n_risk = fit$n.risk
  )
}
lr <- function(formula, d) {
  s <- survdiff(formula, data = d)
  list(chi2 = s$chisq, df = length(s$n) - 1, obs = unname(s$obs), exp = unname(s$exp))
}
cx <- function(formula, d) {
  s <- summary(coxph(formula, data = d, ties = "efron"))$coefficients
  list(term = rownames(s), coef = unname(s[, "coef"]), se = unname(s[, "se(coef)"]), p = unname(s[, "Pr(>|z|)"]))
}

# Cox fits with both tie methods and the robust (sandwich) variance; counting-process data need an id for it.
cx_full <- function(formula, d) {
  d$row_id <- seq_len(nrow(d))
  one <- function(ties) {
    f <- coxph(formula, data = d, ties = ties, robust = TRUE, id = row_id)
    list(
      term = names(coef(f)), coef = unname(coef(f)), se = unname(sqrt(diag(f$naive.var))),
      robust_se = unname(sqrt(diag(f$var))), loglik = unname(f$loglik), n = f$n, nevent = f$nevent
    )
  }
  list(efron = one("efron"), breslow = one("breslow"))
}

ref <- list(
  cox_full = list(
    lung = cx_full(Surv(time, status) ~ age + sex + ph.ecog, lung2),
    mgus2 = cx_full(Surv(futime, death) ~ age + sex + hgb, mgus2),
    myeloma = cx_full(Surv(entry, futime, death) ~ year, myeloma2),
    ovarian = cx_full(Surv(futime, fustat) ~ age + resid.ds + rx + ecog.ps, ovarian2),
    veteran = cx_full(Surv(time, status) ~ trt + celltype + karno + diagtime + age + prior, veteran2)
  ),
  r_survival = as.character(packageVersion("survival")),
  aml = list(
    km = km(Surv(time, status) ~ 1, aml, c(0, 5, 9, 10, 50, 161)),
    groups = km_groups(Surv(time, status) ~ x, aml),
    logrank = lr(Surv(time, status) ~ x, aml)
  ),
  mgus2 = list(
    km = km(Surv(futime, death) ~ 1, mgus2, c(12, 60, 120, 240, 400)),
    groups = km_groups(Surv(futime, death) ~ sex, mgus2),
    logrank = lr(Surv(futime, death) ~ sex, mgus2),
    cox = cx(Surv(futime, death) ~ age + sex + hgb, mgus2)
  ),
  lung = list(
    km = km(Surv(time, status) ~ 1, lung2, c(100, 365, 730)),
    groups = km_groups(Surv(time, status) ~ ph.ecog, lung2[!is.na(lung2$ph.ecog), ]),
    logrank = lr(Surv(time, status) ~ ph.ecog, lung2),
    cox = cx(Surv(time, status) ~ age + sex + ph.ecog, lung2)
  ),
  myeloma = list(
    km = km(Surv(entry, futime, death) ~ 1, myeloma2, c(30, 365, 1000, 3650)),
    groups = km_groups(Surv(entry, futime, death) ~ era, myeloma2),
    # survdiff refuses (start, stop] data. Without ties the log-rank statistic is the Cox model's score test.
    score = coxph(Surv(entry_u, futime_u, death) ~ era, data = myeloma2)$score,
    cox = cx(Surv(entry, futime, death) ~ year, myeloma2)
  ),
  ties0 = list(
    km = km(Surv(t, e) ~ 1, ties0, c(0, 1, 2, 5.5, 6)),
    groups = km_groups(Surv(t, e) ~ g, ties0),
    logrank = lr(Surv(t, e) ~ g, ties0)
  )
)
writeLines(to_json(ref), file.path(out, "reference.json"))
