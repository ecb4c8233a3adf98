package main

import (
	"net/http"
	_ "net/http/pprof" // served on -pprof only
)

func servePProf(addr string) error { return http.ListenAndServe(addr, http.DefaultServeMux) }
