"""Replays an eval run's candidates offline: re-probes every kept candidate of every Python and
JavaScript workflow (as the pipeline does, with the repo's probe scripts), checks each against
the task's reference tests, and writes what selection rules need to JSON. Then
scripts/analysis/selection_rules.py compares rules on it.

    python3 scripts/analysis/replay_candidates.py <home>/evals/eval-<unix> out.json [tasks.jsonl]

The task file defaults to the project's own set; pass the one the eval ran for another set.
Candidates are model output: each one runs under bubblewrap (`apt install bubblewrap`), with
the file system read-only but for its scratch folder, and no network.
"""
import json, os, re, subprocess, tempfile, shutil, sys, glob, ast
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ev = sys.argv[1]
r = json.load(open(f'{ev}/report.json'))
TASKS = sys.argv[3] if len(sys.argv) > 3 else os.path.join(REPO, 'assets/eval/tasks.jsonl')
tasks = {json.loads(l)['id']: json.loads(l) for l in open(TASKS)}
if not shutil.which('bwrap'):
    sys.exit('replay_candidates: bubblewrap (bwrap) is needed to run model-written code confined')
def confined(cmd, d):
    """`cmd` in scratch folder `d`, under bubblewrap: read-only root, `d` writable, no network."""
    return ['bwrap', '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp',
            '--bind', d, d, '--chdir', d, '--unshare-all', '--die-with-parent', *cmd]
RUN='import test_ref\nfor n in dir(test_ref):\n    if n.startswith("test"): getattr(test_ref,n)()'
def passes(task, code):
    d = tempfile.mkdtemp()
    try:
        if task['language'] == 'python':
            open(f'{d}/solution.py','w').write(code); open(f'{d}/test_ref.py','w').write(task['tests'])
            p = subprocess.run(confined(['python3','-c',RUN],d),cwd=d,capture_output=True,timeout=30)
        else:
            open(f'{d}/solution.js','w').write(code); open(f'{d}/ref.test.js','w').write(task['tests'])
            p = subprocess.run(confined(['node','--test','ref.test.js'],d),cwd=d,capture_output=True,timeout=30)
        return p.returncode == 0
    except subprocess.TimeoutExpired: return False
    finally: shutil.rmtree(d)
def plain_values(name):
    """The plain values of extract::plain_probes (`let ones = [...]`, `let pairs = [...]`), read
    from its source so that the replay probes with what the pipeline probes with."""
    src = open(os.path.join(REPO, 'src/extract/probe.rs')).read()
    block = re.search(r'let ' + name + r' = \[(.*?)\n    \];', src, re.S).group(1)
    return [json.loads(v) for v in re.findall(r'^\s*("(?:[^"\\]|\\.)*"),$', block, re.M)]
ONES = plain_values('ones')
PAIRS = plain_values('pairs')
def calls(text, name):
    out=[]
    for m in re.finditer(r'(?<![\w.])'+re.escape(name)+r'\(', text):
        i=m.end(); depth=1
        while i < len(text) and depth:
            if text[i] in '([{': depth+=1
            elif text[i] in ')]}': depth-=1
            i+=1
        if depth: continue
        args=text[m.end():i-1]
        try:
            ast.literal_eval('('+args.replace('true','True').replace('false','False').replace('null','None')+',)' if args.strip() else '()')
        except Exception: continue
        e=text[m.start():i]
        if len(e)<=300 and e not in out: out.append(e)
    return out
def probe(lang, code, exprs):
    d = tempfile.mkdtemp()
    try:
        json.dump(exprs, open(f'{d}/_flotilla_probe.json','w'))
        if lang=='python':
            open(f'{d}/solution.py','w').write(code)
            shutil.copy(os.path.join(REPO, 'assets/python_probe.py'),d+'/_p.py'); p=subprocess.run(confined(['python3','_p.py'],d),cwd=d,capture_output=True,timeout=60,text=True,stdin=subprocess.DEVNULL)
        else:
            open(f'{d}/solution.js','w').write(code)
            shutil.copy(os.path.join(REPO, 'assets/node_probe.js'),d+'/_p.js'); p=subprocess.run(confined(['node','_p.js'],d),cwd=d,capture_output=True,timeout=60,text=True,stdin=subprocess.DEVNULL)
        for l in p.stdout.splitlines():
            if l.startswith('FLOTILLA_PROBE '): return json.loads(l[15:])
        return ['!Crash']*len(exprs)
    except subprocess.TimeoutExpired: return ['!Timeout']*len(exprs)
    finally: shutil.rmtree(d)
data={}
for t in r['tasks']:
    task = tasks[t['id']]
    if task['language'] == 'rust': continue
    wf = f"{ev}/workflows/{t['workflow']}"
    res = json.load(open(f'{wf}/result.json'))
    name = re.search(r'`(\w+)\(', task['prompt']).group(1)
    sig = re.search(r'`(\w+\([^`]*\))`', task['prompt']).group(1)
    text = open(f'{wf}/log.txt').read()
    suites = ''.join(open(f).read() for f in glob.glob(f'{wf}/suites/*/*'))
    exprs = calls(suites, name)
    for e in calls(text, name):
        if e not in exprs: exprs.append(e)
    exprs = exprs[:32]
    nargs = len([a for a in sig.split('(')[1].rstrip(')').split(',') if a.strip()])
    plain = {1:ONES,2:PAIRS}.get(nargs,[])
    for a in plain:
        e=f'{name}({a})'
        if len(exprs)<32 and e not in exprs: exprs.append(e)
    cands=[]
    for c in res['candidates']:
        if not c.get('kept', True) or not c['file']: continue
        f = glob.glob(f"{wf}/{c['file']}/solution.*")
        if not f: continue
        code=open(f[0]).read()
        cands.append(dict(idx=int(c['file'].split('/')[-1]), origin=c['origin'], score=c['score'], passed=c['passed'], chosen=c['chosen'], code=code, ref=passes(task, code), beh=probe(task['language'], code, exprs)))
    data[t['id']]=dict(exprs=exprs, cands=cands, pipe=t['pipeline']['passed'])
    print(t['id'], len(exprs), ''.join('P' if c['ref'] else '-' for c in cands), file=sys.stderr)
json.dump(data, open(sys.argv[2],'w'))
