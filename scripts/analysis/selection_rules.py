import json, sys
"""Compares selection rules on files written by replay_candidates.py: for each rule, how many
workflows would keep a candidate that passes the reference tests.

    python3 scripts/analysis/selection_rules.py out.json [more.json …]
"""


def err(v):
    return v.startswith('!')


def mbr(c, cs, self_=True):
    """Input by input, the candidates returning c's value (errors count nothing)."""
    s = 0
    for i, v in enumerate(c['beh']):
        if err(v):
            continue
        s += sum(1 for o in cs if (self_ or o is not c) and o['beh'][i] == v)
    return s


def ok(c): return sum(1 for v in c['beh'] if not err(v))


def fitting(cs):
    """Probe by probe: not rejected with a TypeError by most candidates."""
    n = max(len(c['beh']) for c in cs)
    return [sum(1 for c in cs if i < len(c['beh']) and c['beh'][i] == '!TypeError') * 2 <= len(cs)
            for i in range(n)]


def shown(c, fit):
    """Its values on the fitting probes, unless it returned one value for three or more."""
    v = [x for i, x in enumerate(c['beh']) if i < len(fit) and fit[i] and not err(x)]
    return not (len(v) >= 3 and len(set(v)) == 1)


def greedy(c):
    """The temperature-0 candidate written from the task: the one-shot request's twin."""
    return 'temperature 0)' in c['origin'] and c['origin'].startswith('candidate 1 ')


def now(c, cs, constant_out=True, weight=lambda o: 1):
    """flotilla's rule: test score plus agreement on fitting probes, then values returned.
    `weight` is how much each other candidate's vote counts."""
    fit = fitting(cs)
    keep = (lambda o: shown(o, fit)) if constant_out else (lambda o: True)
    if not keep(c):
        return (c['score'], 0)
    agr = sum(sum(weight(o) for o in cs if o is not c and keep(o) and i < len(o['beh']) and o['beh'][i] == v)
              for i, v in enumerate(c['beh']) if i < len(fit) and fit[i] and not err(v))
    ret = sum(1 for i, v in enumerate(c['beh']) if i < len(fit) and fit[i] and not err(v))
    return (c['score'] + agr, ret)


R = {
 'now': lambda c,cs: now(c, cs),
 'now,constant counts': lambda c,cs: now(c, cs, False),
 'identical code votes once': lambda c,cs: now(c, cs, weight=lambda o: 1 / sum(1 for q in cs if q.get('code') == o.get('code'))),
 'shown before values': lambda c,cs: (now(c, cs)[0], shown(c, fitting(cs)), now(c, cs)[1]),
 'greedy votes x2': lambda c,cs: now(c, cs, weight=lambda o: 2 if greedy(o) else 1),
 'fixes do not vote': lambda c,cs: now(c, cs, weight=lambda o: 0 if o['origin'].startswith('fix of') else 1),
 'score,mbr': lambda c,cs:(c['score'],mbr(c,cs)),
 'score,noself,ok': lambda c,cs:(c['score'],mbr(c,cs,False),ok(c)),
 'score,noself': lambda c,cs:(c['score'],mbr(c,cs,False)),
 'noself,ok': lambda c,cs:(mbr(c,cs,False),ok(c)),
}
for f in sys.argv[1:]:
    data=json.load(open(f)); tot={k:0 for k in R}; tot['any']=0; diffs=[]
    for t,d in data.items():
        cs=d['cands']
        if not cs: continue
        tot['any']+=any(c['ref'] for c in cs); line=''
        for k,fn in R.items():
            keys=[fn(c,cs) for c in cs]; p=cs[keys.index(max(keys))]['ref']; tot[k]+=p; line+='P' if p else '-'
        if len(set(line))>1: diffs.append((t,line))
    print(f, tot); [print('  ',t,l) for t,l in diffs]
