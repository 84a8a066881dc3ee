package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat:
// 100 on every Linux architecture Go supports.
const clockTicks = 100

// ProcStat is what the harness reads about a process from /proc.
type ProcStat struct {
	// CPU is user plus system time since the process started, from
	// /proc/<pid>/stat: exact over the process's life, but counted in
	// clock ticks (10 ms).
	CPU time.Duration
	// RunTime is the time the process's threads have spent on a CPU, summed
	// from /proc/<pid>/task/*/schedstat: nanosecond resolution, but blind to
	// threads that have exited (rare in Go and nginx servers). Zero when the
	// kernel does not provide it.
	RunTime time.Duration
	// RSS and HWM are the resident set size now and its peak, in bytes.
	RSS, HWM int64
	// Threads is the number of OS threads.
	Threads int
}

// parseStatCPU returns utime+stime from the contents of /proc/<pid>/stat.
// The command name in parentheses may hold spaces, so fields are counted
// from the last ')'.
func parseStatCPU(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("proc stat: no command name")
	}
	f := strings.Fields(string(b[i+1:]))
	// After the name: state(3) ... utime is field 14, stime 15 (1-based),
	// that is index 11 and 12 here.
	if len(f) < 13 {
		return 0, fmt.Errorf("proc stat: %d fields", len(f))
	}
	ut, err := strconv.ParseInt(f[11], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("proc stat utime: %w", err)
	}
	st, err := strconv.ParseInt(f[12], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("proc stat stime: %w", err)
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// parseStatus fills RSS, HWM and Threads from /proc/<pid>/status.
func parseStatus(b []byte, ps *ProcStat) error {
	sc := bufio.NewScanner(bytes.NewReader(b))
	found := 0
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "VmRSS":
			ps.RSS = n << 10
			found++
		case "VmHWM":
			ps.HWM = n << 10
			found++
		case "Threads":
			ps.Threads = int(n)
			found++
		}
	}
	if found < 3 {
		return fmt.Errorf("proc status: VmRSS, VmHWM or Threads missing")
	}
	return nil
}

// readProc reads the stat of one process.
func readProc(pid int) (ProcStat, error) {
	var ps ProcStat
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ps, err
	}
	if ps.CPU, err = parseStatCPU(b); err != nil {
		return ps, err
	}
	b, err = os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return ps, err
	}
	if err := parseStatus(b, &ps); err != nil {
		return ps, err
	}
	ps.RunTime = taskRunTime(pid)
	return ps, nil
}

// taskRunTime sums the on-CPU time of every thread of pid.
func taskRunTime(pid int) time.Duration {
	dir := fmt.Sprintf("/proc/%d/task", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	var sum time.Duration
	for _, e := range ents {
		b, err := os.ReadFile(dir + "/" + e.Name() + "/schedstat")
		if err != nil {
			continue
		}
		if d, err := parseSchedstat(b); err == nil {
			sum += d
		}
	}
	return sum
}

// parseSchedstat returns the first field of a schedstat file: nanoseconds
// spent running.
func parseSchedstat(b []byte) (time.Duration, error) {
	f := strings.Fields(string(b))
	if len(f) < 1 {
		return 0, fmt.Errorf("schedstat: empty")
	}
	n, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("schedstat: %w", err)
	}
	return time.Duration(n), nil
}

// readProcs sums the stats of several processes (nginx's master and
// workers): CPU, RSS and threads add up; HWM is the sum of the peaks.
func readProcs(pids []int) (ProcStat, error) {
	var sum ProcStat
	for _, pid := range pids {
		ps, err := readProc(pid)
		if err != nil {
			return sum, err
		}
		sum.CPU += ps.CPU
		sum.RunTime += ps.RunTime
		sum.RSS += ps.RSS
		sum.HWM += ps.HWM
		sum.Threads += ps.Threads
	}
	return sum, nil
}

// childrenOf lists the processes whose parent is pid.
func childrenOf(pid int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var kids []int
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", n))
		if err != nil {
			continue
		}
		if ppid, err := parseStatPPID(b); err == nil && ppid == pid {
			kids = append(kids, n)
		}
	}
	return kids
}

// parseStatPPID returns the parent pid from the contents of /proc/<pid>/stat.
func parseStatPPID(b []byte) (int, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("proc stat: no command name")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 {
		return 0, fmt.Errorf("proc stat: %d fields", len(f))
	}
	return strconv.Atoi(f[1])
}

// parseGoroutines returns go_goroutines from a Prometheus text exposition,
// or -1 when it is absent.
func parseGoroutines(b []byte) int {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, "go_goroutines")
		if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '{') {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err == nil {
			return int(v)
		}
	}
	return -1
}
