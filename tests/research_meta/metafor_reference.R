# Reference values from R metafor for tests/research_meta (run by the fixture in conftest.py).
# Usage: Rscript metafor_reference.R SPEC.csv OUT.csv
# SPEC columns: id,file,measure,method,test,by,l1o. OUT: long format id,key,value (17 significant digits).
# Tight control so REML and PM are solved to convergence (metafor's defaults stop at 1e-5 / ~1.2e-4).
suppressPackageStartupMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
spec <- read.csv(args[1], stringsAsFactors = FALSE, na.strings = "")
ctrl <- list(threshold = 1e-12, tol = 1e-14, maxiter = 10000)
out <- list()
put <- function(id, key, value) {
  out[[length(out) + 1]] <<- data.frame(id = id, key = key, value = sprintf("%.17g", as.numeric(value)))
}
bt <- function(measure, x, ni) {
  if (measure == "PLO") return(transf.ilogit(x))
  if (measure == "PFT") return(transf.ipft.hm(x, targs = list(ni = ni)))
  if (measure == "PAS") return(transf.iarcsin(x))
  if (measure %in% c("RR", "OR")) return(exp(x))
  if (measure %in% c("PR", "RD")) return(x)
  return(rep(NA, length(x)))
}
effects <- function(d, measure) {
  if (all(c("events", "n") %in% names(d)) && measure %in% c("PR", "PLO", "PFT", "PAS")) {
    e <- escalc(measure, xi = events, ni = n, data = d); e$ni_ <- d$n; return(e)
  }
  if (all(c("ai", "n1", "ci", "n2") %in% names(d))) {
    e <- escalc(measure, ai = ai, n1i = n1, ci = ci, n2i = n2, data = d); e$ni_ <- d$n1 + d$n2; return(e)
  }
  e <- d; e$ni_ <- if ("n" %in% names(d)) d$n else NA; return(e)
}
fit <- function(e, method, test) rma(yi, vi, data = e, method = method, test = test, control = ctrl)
for (i in seq_len(nrow(spec))) {
  s <- spec[i, ]
  d <- read.csv(s$file, stringsAsFactors = FALSE)
  e <- effects(d, s$measure)
  for (j in seq_len(nrow(e))) { put(s$id, paste0("yi.", j), e$yi[j]); put(s$id, paste0("vi.", j), e$vi[j]) }
  r <- fit(e, s$method, s$test)
  p <- predict(r)
  put(s$id, "k", r$k); put(s$id, "estimate", r$b); put(s$id, "se", r$se)
  put(s$id, "ci_lower", r$ci.lb); put(s$id, "ci_upper", r$ci.ub); put(s$id, "p", r$pval)
  put(s$id, "tau2", r$tau2); put(s$id, "i2", r$I2); put(s$id, "h2", r$H2)
  put(s$id, "q", r$QE); put(s$id, "q_p", r$QEp)
  if (!is.null(p$pi.lb)) { put(s$id, "pred_lower", p$pi.lb); put(s$id, "pred_upper", p$pi.ub) }
  b <- bt(s$measure, c(r$b, r$ci.lb, r$ci.ub), e$ni_)
  put(s$id, "pooled", b[1]); put(s$id, "pooled_ci_lower", b[2]); put(s$id, "pooled_ci_upper", b[3])
  for (j in seq_along(weights(r))) put(s$id, paste0("weight.", j), weights(r)[j])
  if (isTRUE(s$l1o == 1)) {
    l <- leave1out(r)
    for (j in seq_along(l$estimate)) {
      for (key in c("estimate", "se", "ci.lb", "ci.ub", "Q", "Qp", "tau2", "I2", "H2")) {
        put(s$id, paste0("l1o.", j, ".", key), l[[key]][j])
      }
    }
  }
  if (!is.na(s$by)) {
    g <- d[[s$by]]
    lev <- unique(g)
    ests <- c(); ses <- c()
    for (lv in lev) {
      rg <- rma(yi, vi, data = e, subset = g == lv, method = s$method, test = s$test, control = ctrl)
      put(s$id, paste0("sub.", lv, ".estimate"), rg$b); put(s$id, paste0("sub.", lv, ".tau2"), rg$tau2)
      put(s$id, paste0("sub.", lv, ".se"), rg$se)
      ests <- c(ests, rg$b); ses <- c(ses, rg$se)
    }
    rb <- rma(ests, sei = ses, mods = ~ factor(lev), method = "FE")
    put(s$id, "sub.q_between", rb$QM); put(s$id, "sub.p_between", rb$QMp)
  }
}
write.csv(do.call(rbind, out), args[2], row.names = FALSE)
