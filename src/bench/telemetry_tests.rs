//! Tests of the telemetry sources: the process tree's CPU, and replayed samples.

use super::*;

#[test]
fn the_process_source_measures_a_busy_child_and_its_tree() {
    let mut cmd = std::process::Command::new("sh");
    cmd.arg("-c").arg("sh -c 'while :; do :; done' & wait");
    // Dropping the group child kills the busy grandchild too.
    let child = crate::process::GroupChild::spawn(cmd).unwrap();
    let mut source = ProcessSource::default();
    let start = std::time::Instant::now();
    let mut last = Sample::default();
    for _ in 0..3 {
        std::thread::sleep(std::time::Duration::from_millis(300));
        let mut tick = Tick {
            t: start.elapsed().as_secs_f64(),
            root_pid: child.id(),
            tree: Vec::new(),
        };
        last = Sample::default();
        source.read(&mut tick, &mut last);
        assert!(tick.tree.contains(&child.id()));
    }
    drop(child);
    // The busy loop is a grandchild: only the tree walk sees its CPU.
    let cpu = last.cpu_pct.expect("cpu measured");
    // Low bar: the machine may be busy; an idle tree reads about 0.
    assert!(cpu > 5.0, "cpu {cpu}");
    assert!(last.rss_mb.is_some());
    assert_eq!(last.gpu_util, None);
}

#[test]
fn replay_hands_out_the_sample_in_force_at_each_tick() {
    let recorded = vec![
        Sample {
            t: 0.0,
            gpu_util: Some(10.0),
            ..Sample::default()
        },
        Sample {
            t: 1.0,
            gpu_util: Some(90.0),
            ..Sample::default()
        },
    ];
    let mut source = ReplaySource::new(recorded);
    let mut read_at = |t: f64| {
        let mut tick = Tick {
            t,
            root_pid: 1,
            tree: Vec::new(),
        };
        let mut s = Sample::default();
        source.read(&mut tick, &mut s);
        s.gpu_util
    };
    assert_eq!(read_at(0.5), Some(10.0));
    assert_eq!(read_at(1.2), Some(90.0));
}
